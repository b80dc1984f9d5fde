// kernelseal: hash, sign and verify GPU kernels and other ML artifacts.

export { DIGEST_ALGORITHMS, METADATA_ALGORITHMS, type DigestAlgorithm } from './digest/algorithm.js';
export type { DigestBackend, DigestBackendName, FileHashes, HashFilesOptions, HashOptions, HashProgress, VariantHashes } from './hashing/backend.js';
export { compareByteOrder } from './digest/byte-order.js';
export { Digest, unsafePathReason, type DigestJSON } from './digest/digest.js';
export { hashTree, hashVariant, type HashVariantOptions } from './hashing/hash-variant.js';
export { DigestError, type DigestErrorCode } from './hashing/errors.js';
export { EngineInternalError, createNativeBackend, loadAddon } from './hashing/native/backend.js';
export { pureBackend } from './hashing/pure/backend.js';
export { BACKEND_ENV, digestBackend, nativeUnavailableReason } from './hashing/select-backend.js';
export {
  AlgorithmMismatch,
  DigestValidationError,
  HashMismatch,
  MissingFile,
  UnknownFile,
  type DigestViolation,
} from './digest/violations.js';
export { writeDigestToMetadata, MetadataWriteError } from './kernels/write-digest.js';
export {
  BACKEND_TYPES,
  MetadataError,
  parseMetadata,
  type BackendType,
  type KernelDependency,
  type KernelMetadata,
} from './kernels/metadata.js';
export { MetadataReadError, readMetadataDigest } from './kernels/read-digest.js';
export { parsePolicy, readPolicyFile } from './trust/policy-file.js';
export { PolicyError } from './trust/policy-error.js';
export {
  GITHUB_ACTIONS_ISSUER,
  NAMED_POLICIES,
  allOf,
  anyOf,
  extensionPolicy,
  githubWorkflowPolicy,
  identityPolicy,
  issuerPolicy,
  kernelsCommunityPolicy,
  requirePinnedIssuer,
  subjectPolicy,
  type GitHubWorkflowOptions,
  type Policy,
} from './trust/policy.js';
export { exactly, matching, oneOf, type StringMatch } from './trust/string-match.js';
export { BUNDLE_MEDIA_TYPES, BundleError, parseBundle, type Bundle } from './sigstore/bundle.js';
export { FULCIO_OID, certificateIdentity, describeExtension, issuerOf, type CertificateIdentity } from './trust/certificate-identity.js';
export {
  PINNED_TRUSTED_ROOT_PATH,
  TrustedRootError,
  parseTrustedRoot,
  pinnedTrustedRoot,
  publicGoodTrustedRoot,
  readTrustedRoot,
  type RefreshOptions,
  type ResolvedTrustedRoot,
  type TrustedRoot,
} from './sigstore/trusted-root.js';
export {
  SignatureVerificationError,
  verifyBundle,
  verifyEnvelopeBundle,
  type Artifact,
  type Signer,
  type TrustAnchor,
} from './sigstore/verify-bundle.js';
export type { VerificationResult, VerificationStatus } from './kernels/result.js';
export { MAX_BUNDLE_BYTES, MAX_METADATA_BYTES, verifySignedMetadata, verifyVariant, type SignedMetadata, type VerifyVariantOptions } from './kernels/verify-variant.js';
export { IdentityTokenError, checkIdentityToken, resolveIdentityToken } from './sign/identity-token.js';
export { PUBLIC_GOOD, SigningError, parsePrivateKey, signBytes, signEnvelope, type SignerOptions, type WitnessOptions } from './sign/sign-bytes.js';
export { serializeBundle, signVariant, type SignVariantOptions, type SignedVariant } from './kernels/sign-variant.js';
export { verifyAndCopyVariant, type CopyResult, type VerifyAndCopyOptions } from './kernels/verify-and-copy.js';
export { HubCache } from './kernels/hub/cache.js';
export { KernelRefusedError, getKernel, listVariants, type FetchedKernel, type GetKernelOptions } from './kernels/hub/get-kernel.js';
export { HubClient, HubError, type HubClientOptions, type HubFile, type HubRevision, type RepoType } from './kernels/hub/hub-client.js';
export { LockfileError, lockFromListing, readLockfile, variantLockHash, writeLockfile, type KernelLock } from './kernels/hub/lockfile.js';
export { parseVariantName, selectVariant, type VariantName, type VariantSelector } from './kernels/variant-name.js';
export { hashModel, type HashModelOptions, type HashedModel } from './model/hash-model.js';
export { DEFAULT_IGNORE_PATHS, IgnorePathError } from './model/ignore-paths.js';
export {
  DEFAULT_SHARD_SIZE,
  MODEL_HASH_TYPES,
  compareResourceNames,
  rootDigest,
  type ModelHashType,
  type ModelManifest,
  type Resource,
  type Serialization,
} from './model/manifest.js';
export { ModelFilesError, listModelFiles, type ModelFile } from './model/model-files.js';
export { ModelHashMismatch, compareResources, type ModelViolation } from './model/model-violations.js';
export { SignatureFormatError, parseModelSignature, type ModelSignature } from './model/signature-file.js';
export { signModel, type SignModelOptions, type SignedModel } from './model/sign-model.js';
export { MODEL_SIGNATURE_PREDICATE, StatementError, buildStatement, parseStatement, statementPayload } from './model/statement.js';
export { CURVE_HASH, verifyModelSignature, type VerifiedModelSignature } from './model/verify-signature.js';
export { verifyModel, type ModelVerificationResult, type VerifyModelOptions } from './model/verify-model.js';
export { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from './sigstore/dsse.js';
export { AttestationFileError, MAX_ATTESTATION_FILE_BYTES, parseAttestations, pep740ToBundle, readAttestationFile, type AttestationFormat, type LoadedAttestation } from './attest/attestation-file.js';
export { githubAttestationPolicy, type GitHubAttestationPolicyOptions } from './attest/attestation-policy.js';
export { NpmKeysError, parseNpmKeys, pinnedNpmKeys, readNpmKeys, type NpmKey } from './attest/npm-keys.js';
export { NPM_PUBLISH_PREDICATE, verifyAttestation, type AttestationFailure, type AttestationVerificationResult, type VerifiedAttestation, type VerifyAttestationOptions } from './attest/verify-attestation.js';
export { PROVENANCE_FIELDS, SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1, provenanceFacts, provenancePolicy, type InTotoStatement, type ProvenanceFacts, type ProvenanceField } from './trust/predicate-policy.js';
export { GITHUB_RELEASES_IDENTITY, githubReleasesPolicy, noIssuerPolicy } from './trust/policy.js';
export { attest, type AttestOptions, type Attestation } from './attest/attest.js';
export { GITHUB_ACTIONS_BUILD_TYPE, ProvenanceEnvironmentError, githubActionsProvenance } from './attest/github-provenance.js';
