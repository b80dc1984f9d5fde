import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalDevices } from '../../fs/local-file-system.js';
import { fingerprintOf, hasCtime, type FingerprintWithCtime } from '../../hashing/fingerprint.js';
import type { FileAccess, VariantEntry } from '../../hashing/tree.js';

/**
 * Which files a load may trust to hold, later, the bytes it once hashed: those nobody but the
 * loading user (and root) can change. A receipt (src/kernels/hub/receipts.ts) and a hash taken
 * as a download streamed in (src/kernels/hub/skip-hashing.ts) vouch only for such files;
 * anything else is hashed in full on every load.
 *
 * Why the file's times are not enough: a write through a shared writable mapping into a page
 * that is already dirty changes neither mtime nor ctime. So whoever can open a file for writing
 * can change it unseen by any fingerprint. A file is trusted only when no one else can:
 *
 * - a regular file owned by the loading user or by root (who can change anything anyway);
 * - no group or other write bit (with POSIX ACLs, the group bits are the ACL's mask, so a named
 *   user or group granted writing shows there too);
 * - one name: a second name is a way to the file we never see;
 * - on a local file system (src/fs/local-file-system.ts): on a network share or FUSE, the owner
 *   and mode are a server's word, and another machine (or the server) writes unseen.
 *
 * What this does not cover (SECURITY.md): a process of the loading user itself, and a process
 * that opened the file for writing while it was still writable by others, before a chmod or
 * chown made it the user's alone (the receipt then vouches for the file as that process leaves
 * it): do not take over, by chmod or chown, files others could write; fetch them again.
 */
export class SoleWriter {
  private readonly devices = new LocalDevices();
  private readonly uid = process.geteuid?.();

  /** Whether `info` (of `path`, links followed: a walk's entry, or a stat with `{ bigint: true }`) is a regular file only we and root can change. */
  async owns(path: string, info: FileAccess): Promise<boolean> {
    if (this.uid === undefined || (info.mode & S_IFMT) !== S_IFREG) return false; // no owners to check (Windows)
    if (info.uid !== BigInt(this.uid) && info.uid !== 0n) return false;
    if ((info.mode & 0o022n) !== 0n) return false;
    if (info.nlink !== 1n) return false;
    return this.devices.isLocal(path, info.dev);
  }
}

const S_IFMT = 0o170000n;
const S_IFREG = 0o100000n;

/** A file of a variant as a load last saw it: what identifies its content, and who may write it. */
export interface FileLook {
  fingerprint: FingerprintWithCtime;
  access: FileAccess;
}

/**
 * The look a walk took of `entry` (under `dir`), when it took all of it (DigestBackend.walkTree
 * does); else a stat of it now (its error thrown). A second load asks this of every file: taking
 * it from the walk spares a second stat of each.
 */
export async function lookAt(dir: string, entry: VariantEntry): Promise<FileLook> {
  if (entry.access && hasCtime(entry.fingerprint)) return { fingerprint: entry.fingerprint, access: entry.access };
  const info = await stat(join(dir, entry.key), { bigint: true });
  return { fingerprint: fingerprintOf(info, true), access: info };
}
