import type { Stats } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

// The user's own state folder: what kernelseal remembers between runs and must not share with
// anyone who can write the Hugging Face cache (the receipt key, the publisher lists' floors, the
// signers first seen per repository). One home, so that one variable moves all of it.

/** `$KERNELSEAL_STATE_DIR`, else `$XDG_STATE_HOME/kernelseal`, else `~/.local/state/kernelseal`. */
export function userStateDir(): string {
  return process.env.KERNELSEAL_STATE_DIR || join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'kernelseal');
}

/**
 * Why a folder of the state cannot be trusted, or undefined when it can: it must be a real
 * directory (not a link), this user's, and writable by no one else. Whoever can write it can
 * make kernelseal forget what it remembers.
 */
export function privateDirProblem(info: Stats): string | undefined {
  if (!info.isDirectory()) return 'is not a directory';
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  if (info.uid !== uid) return `belongs to another user (uid ${info.uid}): it must be yours alone`;
  if ((info.mode & 0o022) !== 0) return `may be written by others (mode ${(info.mode & 0o777).toString(8)}): it must be yours alone (chmod 700)`;
  return undefined;
}

/** Makes `dir` (and its parents) with mode 0700 if missing; the reason it cannot be trusted, if any. */
export async function makePrivateDir(dir: string): Promise<string | undefined> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return privateDirProblem(await lstat(dir));
}
