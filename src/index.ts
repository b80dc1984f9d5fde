// kernelseal: hash, sign and verify GPU kernels and other ML artifacts.

export { DIGEST_ALGORITHMS, METADATA_ALGORITHMS, type DigestAlgorithm } from './digest/algorithm.js';
export type { DigestBackend, DigestBackendName, HashOptions, HashProgress, VariantHashes } from './digest/backend.js';
export { compareByteOrder } from './digest/byte-order.js';
export { Digest, type DigestJSON, type HashVariantOptions } from './digest/digest.js';
export { DigestError, type DigestErrorCode } from './digest/errors.js';
export { createNativeBackend, loadAddon } from './digest/native-backend.js';
export { pureBackend } from './digest/pure-backend.js';
export { BACKEND_ENV, digestBackend, nativeUnavailableReason } from './digest/select-backend.js';
export {
  AlgorithmMismatch,
  DigestValidationError,
  HashMismatch,
  MissingFile,
  UnknownFile,
  type DigestViolation,
} from './digest/violations.js';
export { writeDigestToMetadata, MetadataWriteError } from './metadata/write-digest.js';
