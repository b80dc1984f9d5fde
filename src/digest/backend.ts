import type { DigestAlgorithm } from './algorithm.js';

/** Work done so far, and the totals known once the variant has been walked. */
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
}

export type DigestBackendName = 'native' | 'pure';

/** One digest API, two implementations (design.md section 9). */
export interface DigestBackend {
  readonly name: DigestBackendName;
  /** What runs underneath, for people: e.g. "sha2: openssl (process), 2 threads". */
  readonly details: string;
  /** Hashes every file of the variant at `dir`, by the rules of design.md section 3. */
  hashVariant(algorithm: DigestAlgorithm, dir: string, options?: HashOptions): Promise<VariantHashes>;
  /** Hashes one file (following symlinks); refuses anything but a regular file. */
  hashFile(path: string, algorithm: DigestAlgorithm, options?: HashOptions): Promise<Uint8Array>;
}
