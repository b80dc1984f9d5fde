import { rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { UnhashedEntry } from './tree.js';

/**
 * What verification does with the entries the digest leaves out (docs/design.md section 3): the
 * digest of a tree stays the reference's, but a ✅ must mean a loader reads only signed bytes.
 *
 * - Python bytecode (`*.pyc`, `__pycache__/`) is refused by default, since Python runs a planted
 *   `.pyc` instead of the signed source (an unchecked-hash pyc is never validated; the others are
 *   validated against the source's mtime or hash, never against the code they carry). It may be
 *   removed (Python rebuilds it from the verified sources) or, loudly, allowed.
 * - Everything else left out (a symlinked directory, a FIFO or device, a directory named `*.pyc`)
 *   is always refused: a loader could read it, and no signature covers it.
 */
export type BytecodeHandling = 'refuse' | 'remove' | 'allow';

const BYTECODE: ReadonlySet<UnhashedEntry['reason']> = new Set(['bytecode', 'bytecode-directory']);

/** Splits what the walk left out into bytecode and entries that are always refused. */
export function sortUnhashed(unhashed: readonly UnhashedEntry[]): { bytecode: string[]; refused: UnhashedEntry[] } {
  return {
    bytecode: unhashed.filter((entry) => BYTECODE.has(entry.reason)).map((entry) => entry.path),
    refused: unhashed.filter((entry) => !BYTECODE.has(entry.reason)),
  };
}

/** For people: "a symlink to a directory", … */
export function describeUnhashed(reason: UnhashedEntry['reason']): string {
  switch (reason) {
    case 'bytecode':
      return 'Python bytecode';
    case 'bytecode-directory':
      return 'a __pycache__ directory (Python bytecode)';
    case 'directory-symlink':
      return 'a symlink to a directory: a loader would read what no digest covers';
    case 'special-file':
      return 'a FIFO, socket or device (or a symlink to one): it cannot be hashed';
    case 'excluded-directory':
      return 'a directory named *.pyc: the digest leaves it out, so its files are not covered';
  }
}

/**
 * Deletes the bytecode the walk found under `dir`: a `.pyc` entry itself (a symlink is removed,
 * never followed), a `__pycache__` directory with everything in it.
 */
export async function removeBytecode(dir: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const full = join(dir, path);
    if (path.endsWith('.pyc')) await unlink(full).catch(ignoreMissing);
    else await rm(full, { recursive: true, force: true });
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
