import type { DigestAlgorithm } from '../digest/algorithm.js';
import type { UnhashedEntry, VariantTree } from './tree.js';

/** Work done so far, and the totals known once the variant has been walked (or the files listed). */
export interface HashProgress {
  bytesDone: number;
  filesDone: number;
  bytesTotal: number;
  filesTotal: number;
}

export interface HashOptions {
  /** Called now and then while hashing (at most every 100 ms), and once at the end. */
  onProgress?: (progress: HashProgress) => void;
  /** Aborting rejects the promise with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Raw digests of a variant's files, columnar: `digests` holds one digest per path, in the order
 * of `paths` (byte order), each DIGEST_LENGTH[algorithm] bytes. A million files cost one
 * buffer, not a million objects.
 */
export interface VariantHashes {
  paths: string[];
  digests: Uint8Array;
  bytes: number;
  /** Entries of the tree the digest leaves out, with why, by path (verification refuses them). */
  unhashed: UnhashedEntry[];
}

/**
 * Raw digests of a list of files, each whole or cut into shards (model signing): `digests`
 * holds them file by file in the order given, one per whole file, else one per shard
 * (`ceil(size / shardSize)`, none for an empty file).
 */
export interface FileHashes {
  /** Each file's size, in the order given. */
  sizes: number[];
  digests: Uint8Array;
  bytes: number;
}

export interface HashFilesOptions extends HashOptions {
  /** Cut every file into shards of this many bytes (the last one shorter), hashed apart. */
  shardSize?: number;
}

export type DigestBackendName = 'native' | 'pure';

/** One digest API, two implementations (docs/design.md section 9). */
export interface DigestBackend {
  readonly name: DigestBackendName;
  /** What runs underneath, for people: e.g. "sha2: openssl (process), 2 threads". */
  readonly details: string;
  /** Hashes every file of the variant at `dir`, by the rules of docs/design.md section 3. */
  hashVariant(algorithm: DigestAlgorithm, dir: string, options?: HashOptions): Promise<VariantHashes>;
  /** Hashes one file (following symlinks); refuses anything but a regular file. */
  hashFile(path: string, algorithm: DigestAlgorithm, options?: HashOptions): Promise<Uint8Array>;
  /**
   * Hashes each of `paths` (following symlinks), whole or in shards, in parallel. Files are
   * listed first; one that changes after it was listed is refused (FILE_CHANGED). Progress
   * counts shards as files.
   */
  hashFiles(algorithm: DigestAlgorithm, paths: readonly string[], options?: HashFilesOptions): Promise<FileHashes>;
  /**
   * Walks the variant at `dir` without hashing it (the rules of docs/design.md section 3): the
   * files with the fingerprint each had when seen, change time included (what receipts record,
   * src/kernels/hub/receipts.ts), and the entries left out, with why.
   */
  walkTree(dir: string, options?: Pick<HashOptions, 'signal'>): Promise<VariantTree>;
  /**
   * Takes an exclusive `flock` on the open file `fd` without waiting: true if taken (released
   * when the file is closed). Node has none; the native backend's engine does.
   *
   * @deprecated Not consulted: kernelseal locks files (the Hub cache's blobs, a publisher list's
   * state) with the addon's `flock` whenever the addon loads, whatever backend hashes, so that
   * processes hashing differently still exclude each other (src/fs/file-lock.ts). Kept for callers.
   */
  readonly lockFile?: (fd: number) => boolean;
}

/** Throws the TypeError both backends throw for a shard size that is not a positive whole number. */
export function checkShardSize(shardSize: number | undefined): number | undefined {
  if (shardSize !== undefined && !(Number.isSafeInteger(shardSize) && shardSize > 0)) {
    throw new TypeError(`shardSize must be a positive whole number of bytes (got ${String(shardSize)})`);
  }
  return shardSize;
}
