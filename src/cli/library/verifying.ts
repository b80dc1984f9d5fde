// One of the modules under src/cli/library/, the only CLI modules that import from the rest of
// src/ (docs/architecture.md, "Data flows one way"; __test__/architecture.test.ts holds every other
// CLI module to them): what the command line needs of products and machinery, listed module by
// module so that each need is visible in review, and split so that a command loads only what it
// uses (src/cli/main.ts imports each command when it runs).
// The library as the verifying commands use it (verify, verify-bundle, verify-attestation,
// verify-release, verify-model, fetch, lock, digest, publishers show and check), with the machinery every
// command shares: digests, files, strict JSON, trust policies. Nothing here loads a signing library.

export { githubAttestationPolicy } from '../../attest/attestation-policy.js';
export { NpmKeysError, readNpmKeys } from '../../attest/npm-keys.js';
export { type AttestationVerificationResult, type VerifiedAttestation, verifyAttestation } from '../../attest/verify-attestation.js';
export { type ReleaseAsset, type ReleaseVerificationResult, verifyRelease } from '../../attest/verify-release.js';
export { isCommit } from '../../commit.js';
export type { Digest } from '../../digest/digest.js';
export type { DigestViolation } from '../../digest/violations.js';
export { writeFileAtomic } from '../../fs/atomic-write.js';
export { readBounded } from '../../fs/read-bounded.js';
export { readStrictJSONFile } from '../../json/strict-json.js';
export { getKernel, listVariants } from '../../kernels/hub/get-kernel.js';
export { isRepoId } from '../../repo-id.js';
export { isGitHubRepository } from '../../github-repository.js';
export type { GetKernelOptions } from '../../kernels/hub/load-options.js';
export { type FetchedKernel, KernelRefusedError } from '../../kernels/hub/load-outcome.js';
export { hubEndpoint, offlineFromEnv } from '../../kernels/hub/hub-env.js';
export { lockKernel } from '../../kernels/hub/lock-kernel.js';
export { type KernelLock, LockfileError, type LockedIdentity, readLockfile, writeLockfile } from '../../kernels/hub/lockfile.js';
export { thisMachine } from '../../kernels/hub/this-machine.js';
export { checkRepository, type RepositoryCheck } from '../../kernels/publishers/check-repository.js';
export { listLocation } from '../../kernels/publishers/list-location.js';
export { openPublisherList, type VerifiedPublisherList } from '../../kernels/publishers/open-list.js';
export type { BytecodeHandled, VerificationResult } from '../../kernels/result.js';
export { MAX_BUNDLE_BYTES, verifyVariant } from '../../kernels/verify-variant.js';
export { DEFAULT_SHARD_SIZE, MODEL_HASH_TYPES, type ModelHashType, type ModelManifest } from '../../model/manifest.js';
export { defaultSignaturePath, type ModelVerificationResult, verifyModel } from '../../model/verify-model.js';
export { BundleError, parseBundle } from '../../sigstore/bundle.js';
export { parsePemCertificate, parsePemCertificates, pemKeyBlock } from '../../sigstore/pem.js';
export type { HashName } from '../../sigstore/prehashed.js';
export { checkTrustAnchor, mayWaiveTlog, type TrustAnchor } from '../../sigstore/trust-anchor.js';
export { defaultTrustedRoots, readTrustedRoots, type TrustedRoot, TrustedRootError } from '../../sigstore/trusted-root.js';
export { type Artifact, bundleSigner, SignatureVerificationError, type Signer, verifyBundle } from '../../sigstore/verify-bundle.js';
export { EXTENSION_NAMES, extensionOid } from '../../trust/certificate-identity.js';
export { PolicyError } from '../../trust/policy-error.js';
export { MAX_POLICY_FILE_BYTES, readTrustFile, type TrustFile } from '../../trust/policy-file.js';
export { allOf, extensionPolicy, githubReleasesPolicy, identityPolicy, NAMED_POLICIES, type Policy, requirePinned, serviceIdentityPolicy } from '../../trust/policy.js';
export { SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1 } from '../../trust/predicate-policy.js';
export { type PublisherEntry, PublisherListError } from '../../trust/publisher-list.js';
export { exactly, matching, type StringMatch } from '../../trust/string-match.js';
