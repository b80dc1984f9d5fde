// One of the modules under src/cli/library/, the only CLI modules that import from the rest of
// src/ (docs/architecture.md, "Data flows one way").
// The library as `digest` uses it, and what every command shares of it (variant names, progress):
// digest algorithms, hashing a variant, metadata.json's digest read and written. No Sigstore, TUF
// or HTTP: `kernelseal digest` is compared with sha256sum and b3sum start to exit, and importing
// the verifying or signing libraries cost it more than hashing 1000 files (README, Benchmarks).

export { DIGEST_ALGORITHMS, type DigestAlgorithm, isDigestAlgorithm, METADATA_ALGORITHMS } from '../../digest/algorithm.js';
export type { HashProgress } from '../../hashing/backend.js';
export { hashVariant } from '../../hashing/hash-variant.js';
export { describeUnhashed } from '../../hashing/unhashed-entries.js';
export { envFlag } from '../../kernels/hub/hub-env.js';
export { readMetadataDigest } from '../../kernels/read-digest.js';
export { parseVariantName, type VariantSelector } from '../../kernels/variant-name.js';
export { writeDigestToMetadata } from '../../kernels/write-digest.js';
