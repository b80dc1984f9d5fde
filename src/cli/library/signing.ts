// One of the modules under src/cli/library/, the only CLI modules that import from the rest of
// src/ (docs/architecture.md, "Data flows one way"; __test__/architecture.test.ts holds every other
// CLI module to them): what the command line needs of products and machinery, listed module by
// module so that each need is visible in review, and split so that a command loads only what it
// uses (src/cli/main.ts imports each command when it runs).
// The library as the signing commands use it (sign, sign-blob, sign-model, attest, the publisher
// list's maintainer commands): the Sigstore signing clients, GitHub's provenance, the list's keys.

export { attest } from '../../attest/attest.js';
export { githubActionsProvenance, instanceForThisJob, ProvenanceEnvironmentError } from '../../attest/github-provenance.js';
export { KeyRing } from '../../kernels/publishers/list-keys.js';
export { DEFAULT_PERIODS, formatPeriod, ListRepository, parsePeriod, ROLE_NAMES, type RoleName, type Signed } from '../../kernels/publishers/list-repository.js';
export { serializeBundle, signVariant } from '../../kernels/sign-variant.js';
export { signModel } from '../../model/sign-model.js';
export { IdentityTokenError } from '../../sign/identity-token.js';
export { signBytes, signedBy, type SignerOptions, SigningError } from '../../sign/sign-bytes.js';
export { readSigningConfig, SigningConfigError, signingServices, type SigstoreInstance } from '../../sign/signing-config.js';
