import { assertDigestAlgorithm, type DigestAlgorithm } from '../digest/algorithm.js';
import { Digest } from '../digest/digest.js';
import type { DigestBackend, HashOptions, VariantHashes } from './backend.js';
import { digestBackend } from './select-backend.js';
import type { UnhashedEntry } from './tree.js';

/** Options of {@link hashVariant}: progress, cancellation, and a backend to use (default: the selected one). */
export interface HashVariantOptions extends HashOptions {
  backend?: DigestBackend;
}

/** The digest of every file of the variant at `dir` (docs/design.md section 3), as the reference computes it. */
export async function hashVariant(algorithm: DigestAlgorithm, dir: string, options: HashVariantOptions = {}): Promise<Digest> {
  return (await hashTree(algorithm, dir, options)).digest;
}

/**
 * Hashes the variant as {@link hashVariant} does, and says which entries the digest leaves out
 * (bytecode, symlinked directories, special files): what verification and signing refuse.
 */
export async function hashTree(algorithm: DigestAlgorithm, dir: string, options: HashVariantOptions = {}): Promise<{ digest: Digest; unhashed: UnhashedEntry[] }> {
  const { paths, digests, unhashed } = await hashTreeRaw(algorithm, dir, options);
  return { digest: Digest.fromRaw(algorithm, paths, digests), unhashed };
}

/**
 * {@link hashTree} as the backend returns it: paths in byte order and their raw digests, one
 * after another. Verification compares these to the signed digest directly
 * (Digest.violationsOfRaw) rather than building a Digest of every file first.
 */
export async function hashTreeRaw(algorithm: DigestAlgorithm, dir: string, options: HashVariantOptions = {}): Promise<VariantHashes> {
  assertDigestAlgorithm(algorithm);
  const backend = options.backend ?? digestBackend();
  return backend.hashVariant(algorithm, dir, options);
}
