/** The algorithms a digest can use. `blake3` is ours: never written into kernels metadata. */
export type DigestAlgorithm = 'sha256' | 'sha512' | 'blake3';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512', 'blake3'];

/** Algorithms that kernels `metadata.json` may carry (design.md section 2). */
export const METADATA_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512'];

/** Raw digest length in bytes. */
export const DIGEST_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 32, sha512: 64, blake3: 32 };

export function isDigestAlgorithm(value: unknown): value is DigestAlgorithm {
  return typeof value === 'string' && (DIGEST_ALGORITHMS as readonly string[]).includes(value);
}

/** Throws the TypeError both backends throw for anything but a digest algorithm. */
export function assertDigestAlgorithm(value: unknown): asserts value is DigestAlgorithm {
  if (!isDigestAlgorithm(value)) {
    throw new TypeError(`algorithm must be one of sha256, sha512, blake3 (got ${JSON.stringify(value) ?? String(value)})`);
  }
}
