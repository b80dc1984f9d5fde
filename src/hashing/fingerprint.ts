import type { BigIntStats } from 'node:fs';
import { DigestError } from './errors.js';

/**
 * "A file read to its end, never past a change" (docs/architecture.md, one home for each rule),
 * on the TypeScript side: what identifies a file's content between two looks, and the errors
 * for a file that changed. The same rule and words as crates/engine/src/file.rs `Fingerprint`;
 * the pure twin (pure/file.ts) and verifyAndCopyVariant (kernels/verify-and-copy.ts) both use it.
 *
 * Size, inode and modification time: a file replaced by another (rename over it, same size and
 * mtime) has a new inode; one written in place has a new size or mtime.
 *
 * With the change time too, when asked for: a verification receipt (src/kernels/hub/receipts.ts)
 * records it, since the file's owner can set mtime back after a write but only root can set
 * ctime. "Changed while read" compares the first three only, as the engine does.
 */
export interface FileFingerprint {
  size: bigint;
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs?: bigint;
}

/** A fingerprint that carries the change time (what receipts record). */
export type FingerprintWithCtime = Required<FileFingerprint>;

/** The fingerprint of `stats` (a `stat`/`fstat` taken with `{ bigint: true }`), with its ctime if `withCtime`. */
export function fingerprintOf(stats: BigIntStats): FileFingerprint;
export function fingerprintOf(stats: BigIntStats, withCtime: true): FingerprintWithCtime;
export function fingerprintOf(stats: BigIntStats, withCtime: boolean): FileFingerprint;
export function fingerprintOf(stats: BigIntStats, withCtime = false): FileFingerprint {
  if (withCtime) return { size: stats.size, ino: stats.ino, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs };
  return { size: stats.size, ino: stats.ino, mtimeNs: stats.mtimeNs };
}

/** Whether `fingerprint` carries the change time. */
export function hasCtime(fingerprint: FileFingerprint): fingerprint is FingerprintWithCtime {
  return fingerprint.ctimeNs !== undefined;
}

/** Whether two looks at a file saw different content (size, inode, mtime: the engine's rule). */
export function fingerprintChanged(before: FileFingerprint, after: FileFingerprint): boolean {
  return before.size !== after.size || before.ino !== after.ino || before.mtimeNs !== after.mtimeNs;
}

/** The file opened is not the one listed (replaced, rewritten, or shorter than the range). */
export function changedAfterListed(path: string, listed: FileFingerprint, now: FileFingerprint): DigestError {
  return new DigestError('FILE_CHANGED', path, `file changed after it was listed (size ${listed.size} then, ${now.size} now)`);
}

/** The file changed between opening it and reading its last byte. */
export function changedWhileRead(path: string, verb: 'hashed' | 'copied', before: FileFingerprint, after: FileFingerprint): DigestError {
  return new DigestError('FILE_CHANGED', path, `file changed while it was ${verb} (size ${before.size} when opened, ${after.size} now)`);
}

/** The file held bytes past the size it claimed, unchanged: a /proc or /sys file (Python would read them all). */
export function holdsMoreThanSize(path: string, size: bigint): DigestError {
  return new DigestError('FILE_CHANGED', path, `file holds more than the ${size} bytes its size says (a /proc or /sys file)`);
}
