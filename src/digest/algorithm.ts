/**
 * The algorithms a digest can use. `blake3` is ours and `blake2b` (BLAKE2b-512) is model
 * signing's: neither is ever written into kernels metadata.
 */
export type DigestAlgorithm = 'sha256' | 'sha512' | 'blake3' | 'blake2b';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512', 'blake3', 'blake2b'];

/** Algorithms that kernels `metadata.json` may carry (docs/design.md section 2). */
export const METADATA_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512'];

/** Raw digest length in bytes. */
export const DIGEST_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 32, sha512: 64, blake3: 32, blake2b: 64 };

export function isDigestAlgorithm(value: unknown): value is DigestAlgorithm {
  return typeof value === 'string' && (DIGEST_ALGORITHMS as readonly string[]).includes(value);
}

/** Throws the TypeError both backends throw for anything but a digest algorithm. */
export function assertDigestAlgorithm(value: unknown): asserts value is DigestAlgorithm {
  if (!isDigestAlgorithm(value)) {
    throw new TypeError(`algorithm must be one of ${DIGEST_ALGORITHMS.join(', ')} (got ${JSON.stringify(value) ?? String(value)})`);
  }
}

/** node:crypto's name for an algorithm OpenSSL implements (all but BLAKE3). */
export function opensslName(algorithm: Exclude<DigestAlgorithm, 'blake3'>): string {
  return algorithm === 'blake2b' ? 'blake2b512' : algorithm;
}
