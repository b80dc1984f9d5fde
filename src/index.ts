// kernelseal: hash, sign and verify GPU kernels and other ML artifacts.
//
// The supported library API, grouped by product (docs/architecture.md). Everything else under
// dist/ is internal and may change in any release; __test__/public-surface.test.ts pins this
// list so that a change to it is deliberate. The rule for errors: a verdict about the user's
// files is a result, never an exception; every error class carries a `code` from a closed
// union (README, "The library"; docs/architecture.md, "Errors").

// ── Kernels: verify, copy, sign ─────────────────────────────────────────────────────────────
/** Verifies a kernel variant's signature, signer and files; resolves to a result, never throws for a bad variant. */
export { verifyVariant, type VerifyVariantOptions } from './kernels/verify-variant.js';
/** The outcome of verifying one variant, one `status` per step, and that status on its own. */
export type { BytecodeHandled, VerificationResult, VerificationStatus } from './kernels/result.js';
/** Verifies a variant into a private copy of exactly the bytes verified (the copy is what to load). */
export { verifyAndCopyVariant, type CopyResult, type VerifyAndCopyOptions } from './kernels/verify-and-copy.js';
/** Hashes a variant, writes its digest into metadata.json and signs metadata.json. */
export { serializeBundle, signVariant, type SignVariantOptions, type SignedVariant } from './kernels/sign-variant.js';
/** Parses metadata.json by its schema (only bytes whose signature held); `MetadataError` when it does not fit. */
export { MetadataError, parseMetadata, type BackendType, type KernelDependency, type KernelMetadata } from './kernels/metadata.js';
/** Variant names (`torch210-cxx11-cu128-x86_64-linux`) and what selects one, for getKernel. */
export type { VariantName, VariantSelector } from './kernels/variant-name.js';

// ── Kernels from the Hugging Face Hub ───────────────────────────────────────────────────────
/** Fetches, verifies and caches a kernel variant from the Hub; throws KernelRefusedError (with the result) when it does not verify. */
export { getKernel, listVariants } from './kernels/hub/get-kernel.js';
/** getKernel's options: which kernel, whom to trust, the cache, the downloads (split into its stages inside). */
export type { GetKernelOptions } from './kernels/hub/load-options.js';
/** What getKernel hands back (verified, or opted-in unsigned), and its refusal, which carries the verification result. */
export { KernelRefusedError, type FetchedKernel, type KernelRefusedErrorCode, type RevisionSource } from './kernels/hub/load-outcome.js';
/** The Hub's HTTP API as getKernel uses it, and its error (`code`: unreachable, a status, or refused). */
export { HubClient, HubError, type HubClientOptions, type HubErrorCode, type HubFile, type HubRevision, type RepoType } from './kernels/hub/hub-client.js';
/** The kernels lock file (kernels.lock): read, write, and make one from a Hub listing. */
export { LockfileError, lockFromListing, lockedIdentity, readLockfile, writeLockfile, type KernelLock, type LockedIdentity } from './kernels/hub/lockfile.js';
/** The signers first verified per repository (the user's state) cannot be read or trusted: the load is refused. */
export { SignerMemoryError } from './kernels/hub/signer-memory.js';

// ── Trusted publisher lists (docs/publishers.md; README "Trusted publisher lists") ──────────
/** Opens a list: verified through TUF from a pinned root, with the client's floor, refresh interval and offline rules; throws PublisherListError when it cannot be used. */
export {
  DEFAULT_REFRESH_INTERVAL_MS,
  MAX_OFFLINE_AGE_MS,
  openPublisherList,
  type OpenPublisherListOptions,
  type RoleState,
  type VerifiedPublisherList,
} from './kernels/publishers/open-list.js';
/** The list's format (read strictly) and its decision rule for a repository and a verified signer; `{ publishers: { list, repoId } }` is the trust anchor that applies it. */
export {
  PUBLISHER_LIST_SCHEMA,
  PublisherListError,
  decidePublisher,
  parsePublisherList,
  type EntryMismatch,
  type PublisherDecision,
  type PublisherEntry,
  type PublisherEntryRef,
  type PublisherList,
  type PublisherListErrorCode,
} from './trust/publisher-list.js';

// ── Models: OpenSSF Model Signing ───────────────────────────────────────────────────────────
/** Signs a model (keyless, key or certificate) as model_signing does. */
export { signModel, type SignModelOptions, type SignedModel } from './model/sign-model.js';
/** Verifies a model signature and every file; resolves to a result, never throws for a bad model. */
export { verifyModel, type ModelVerificationResult, type VerifyModelOptions } from './model/verify-model.js';
/** Hashes a model as model_signing serializes it (files or shards). */
export { hashModel, type HashModelOptions, type HashedModel } from './model/hash-model.js';
/** The model manifest: what a signature says about each file. */
export type { ModelHashType, ModelManifest, Resource, Serialization } from './model/manifest.js';
/** A difference between the signed manifest and the model on disk. */
export { ModelHashMismatch, type ModelViolation } from './model/model-violations.js';
/** Reads a model signature file (every shape model_signing wrote); `SignatureFormatError` when it is none. */
export { SignatureFormatError, parseModelSignature, type ModelSignature } from './model/signature-file.js';
/** Verifies only the signature of a parsed model signature, against a policy, key or CA chain. */
export { verifyModelSignature, type VerifiedModelSignature } from './model/verify-signature.js';
/** The signed in-toto statement of a model: build it, its payload bytes, parse it back. */
export { StatementError, buildStatement, parseStatement, statementPayload } from './model/statement.js';
/** The model cannot be listed: the path and the reason. */
export { ModelFilesError } from './model/model-files.js';
/** An ignore path that cannot be one: outside the model, or not a plain path. */
export { IgnorePathError } from './model/ignore-paths.js';

// ── Attestations: SLSA provenance for release artifacts ─────────────────────────────────────
/** Makes and signs an in-toto attestation (SLSA provenance of the GitHub Actions job) for artifacts. */
export { attest, type AttestOptions, type Attestation } from './attest/attest.js';
/** Verifies attestations (bundles, PEP 740, PyPI provenance, npm documents) over one artifact. */
export {
  NPM_PUBLISH_PREDICATE,
  verifyAttestation,
  type AttestationFailure,
  type AttestationVerificationResult,
  type VerifiedAttestation,
  type VerifyAttestationOptions,
} from './attest/verify-attestation.js';
/** Verifies a GitHub release attestation (gh release verify, verify-asset) and the release's assets. */
export {
  RELEASE_PREDICATE_TYPES,
  verifyRelease,
  type AssetCheck,
  type ReleaseAsset,
  type ReleaseSubject,
  type ReleaseVerificationResult,
  type VerifiedRelease,
  type VerifyReleaseOptions,
} from './attest/verify-release.js';
/** An attestation file that cannot be used; `verifyAttestation` reports it as a failure. */
export { AttestationFileError, type AttestationFormat } from './attest/attestation-file.js';
/** A policy for attestations made in GitHub Actions (repository, workflow, ref). */
export { githubAttestationPolicy, type GitHubAttestationPolicyOptions } from './attest/attestation-policy.js';
/** The npm registry's attestation keys, from its keys document. */
export { NpmKeysError, parseNpmKeys, readNpmKeys, type NpmKey } from './attest/npm-keys.js';
/** SLSA provenance predicate types, for `predicateTypes`. */
export { SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1 } from './trust/predicate-policy.js';
/** attest() outside GitHub Actions: the environment provenance is read from is missing. */
export { ProvenanceEnvironmentError } from './attest/github-provenance.js';

// ── Signing bytes ───────────────────────────────────────────────────────────────────────────
/** Signs bytes (a message signature) or a DSSE envelope: keyless through Fulcio, with a managed key, or a certificate. */
export { SigningError, signBytes, signEnvelope, type SignerOptions, type SigningErrorCode, type WitnessOptions } from './sign/sign-bytes.js';
/** The OIDC identity token for keyless signing: given, SIGSTORE_ID_TOKEN, or the CI's ambient one. */
export { IdentityTokenError, resolveIdentityToken } from './sign/identity-token.js';
/** DSSE: the in-toto payload type and the pre-authentication encoding a DSSE signature covers. */
export { IN_TOTO_PAYLOAD_TYPE } from './sigstore/dsse.js';

// ── Verifying Sigstore bundles, and who is trusted ──────────────────────────────────────────
/** Verifies a bundle over an artifact (or a DSSE bundle on its own) against exactly one trust anchor. */
export {
  SignatureVerificationError,
  verifyBundle,
  verifyEnvelopeBundle,
  type Artifact,
  type PublisherTrust,
  type SignatureVerificationErrorCode,
  type Signer,
  type TrustAnchor,
  type TrustedRoots,
} from './sigstore/verify-bundle.js';
/** Parses a Sigstore bundle (v0.1 to v0.3), strictly. */
export { BundleError, parseBundle, type Bundle } from './sigstore/bundle.js';
/** Trusted roots: public-good's and GitHub's own, pinned and refreshed through TUF, or read from a file (JSON or JSON Lines). */
export {
  TrustedRootError,
  defaultTrustedRoots,
  githubTrustedRoot,
  parseTrustedRoot,
  pinnedGitHubTrustedRoot,
  pinnedTrustedRoot,
  publicGoodTrustedRoot,
  readTrustedRoot,
  readTrustedRoots,
  type RefreshOptions,
  type ResolvedTrustedRoot,
  type TrustedRoot,
} from './sigstore/trusted-root.js';
/** Policies: who is trusted, built in code or read from a policy file. */
export {
  allOf,
  anyOf,
  extensionPolicy,
  githubReleasesPolicy,
  githubWorkflowPolicy,
  identityPolicy,
  issuerPolicy,
  kernelsCommunityPolicy,
  noIssuerPolicy,
  serviceIdentityPolicy,
  subjectPolicy,
  type GitHubWorkflowOptions,
  type InTotoStatement,
  type Policy,
} from './trust/policy.js';
/** A policy from its JSON form (a policy file): parse it, or read and parse the file. */
export { parsePolicy, readPolicyFile } from './trust/policy-file.js';
/** A policy (file) that cannot be one. */
export { PolicyError } from './trust/policy-error.js';
/** Anchored string matches for policies: exactly, a full-match pattern, one of several. */
export { exactly, matching, oneOf, type StringMatch } from './trust/string-match.js';
/** What a policy is checked against: the identity a signing certificate states. */
export { certificateIdentity, type CertificateIdentity } from './trust/certificate-identity.js';

// ── Digests and hashing ─────────────────────────────────────────────────────────────────────
/** The kernels digest: parse, compare and print, exactly as metadata.json carries it; `DigestFormatError` when a digest object is none. */
export { Digest, DigestFormatError, type DigestJSON } from './digest/digest.js';
/** Digest algorithms: every one hashVariant takes. */
export { DIGEST_ALGORITHMS, type DigestAlgorithm } from './digest/algorithm.js';
/** Files that do not match a digest, each difference typed. */
export { AlgorithmMismatch, DigestValidationError, HashMismatch, MissingFile, UnknownFile, type DigestViolation } from './digest/violations.js';
/** Hashes a variant's files into a digest (hashTree: and lists what the digest leaves out). */
export { hashTree, hashVariant, type HashVariantOptions } from './hashing/hash-variant.js';
/** Hashing failed on a file: its path, the reason and a closed `code`. */
export { DigestError, type DigestErrorCode } from './hashing/errors.js';
/** The backend contract (native Rust engine or pure TypeScript twin), for the `backend` option. */
export type { DigestBackend, DigestBackendName, FileHashes, HashFilesOptions, HashOptions, HashProgress, VariantHashes } from './hashing/backend.js';
/** The backend in use (KERNELSEAL_DIGEST_BACKEND, else native when it loads), and why native is unavailable. */
export { digestBackend, nativeUnavailableReason } from './hashing/select-backend.js';
/** The pure TypeScript backend: the same rules and digests, no addon. */
export { pureBackend } from './hashing/pure/backend.js';
/** A bug in the native engine (never a verdict about files), and the native backend itself. */
export { EngineInternalError, createNativeBackend, type EngineInternalErrorCode } from './hashing/native/backend.js';
