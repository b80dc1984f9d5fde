import type { FileFingerprint } from './fingerprint.js';
/**
 * Which entries of a variant the digest covers (docs/design.md section 3), on the TypeScript
 * side: the reasons an entry is left out, and the same rule for a Hub listing. The walkers
 * (crates/engine/src/walk.rs and its twin, pure/walk.ts) apply it to a directory.
 */

/** Excluded at the top level only: nested copies are kernel content and are hashed. */
export const TOP_LEVEL_EXCLUDED: ReadonlySet<string> = new Set(['metadata.json', 'metadata.json.sigstore']);

/** A file that belongs to a variant: its digest key, and the size and fingerprint seen by the walk. */
export interface VariantEntry {
  key: string;
  size: number;
  /**
   * What a later read must still find (symlinks followed): see fingerprint.ts. With the change
   * time when the walk was asked for it, what receipts record (src/kernels/hub/receipts.ts).
   */
  fingerprint: FileFingerprint;
  /**
   * Who may write the file (symlinks followed), when the walk was asked for change times
   * (DigestBackend.walkTree): what src/kernels/hub/sole-writer.ts decides on, so that a second
   * load does not stat every file again to ask it.
   */
  access?: FileAccess;
}

/**
 * Who may write a file, as its metadata says (a `stat` taken with `{ bigint: true }` is one):
 * device, owner, type and permission bits, number of names (crates/engine/src/walk.rs `Access`).
 */
export interface FileAccess {
  dev: bigint;
  uid: bigint;
  mode: bigint;
  nlink: bigint;
}

/**
 * Why an entry of the tree is not hashed (crates/engine/src/walk.rs `Unhashed`). The digest
 * leaves these out, as the reference does; verification and signing refuse a tree holding any.
 */
export type UnhashedReason = 'bytecode' | 'bytecode-directory' | 'excluded-directory' | 'directory-symlink' | 'special-file';

/** An entry left out of the digest: its key, and why. */
export interface UnhashedEntry {
  path: string;
  reason: UnhashedReason;
}

/** What a walk found: the files to hash, and every other entry (the top-level metadata files aside). */
export interface VariantTree {
  entries: VariantEntry[];
  unhashed: UnhashedEntry[];
}

/**
 * Whether the walk hashes a regular file found at `key` (a path relative to the variant): the
 * same rule, for a Hub listing, so that the fetcher downloads nothing the walk would leave out.
 */
export function isHashedKey(key: string): boolean {
  const parts = key.split('/');
  const name = parts[parts.length - 1]!;
  if (parts.length === 1 && TOP_LEVEL_EXCLUDED.has(name)) return false;
  return !name.endsWith('.pyc') && parts.slice(0, -1).every((dir) => dir !== '__pycache__' && !dir.endsWith('.pyc'));
}
