import { existsSync } from 'node:fs';
import { githubAttestationPolicy, NpmKeysError, readNpmKeys, verifyAttestation, PolicyError, allOf, githubReleasesPolicy, requirePinned, serviceIdentityPolicy, type Policy, SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1 } from './library/verifying.js';
import { printable } from './format.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { ProgressBar } from './progress-bar.js';
import { IDENTITY_OPTIONS, TRUST_ALIASES, TRUST_OPTIONS, extensionPoliciesFrom, matchFromFlags, trustAnchorFrom, trustedRootsFrom, type IdentityValues } from './trust-options.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';
import { readArtifact } from './artifact-operand.js';

export const verifyAttestationCommand: Command = {
  name: 'verify-attestation',
  help: `Usage: kernelseal verify-attestation (FILE | sha256:<hex> | sha512:<hex>) --bundle FILE [--bundle FILE]... [policy] [--json]

Verifies every attestation in the given files over the artifact: the signature, its transparency
log entry or timestamp, and the artifact's digest among the in-toto subjects. One attestation
that does not verify fails the whole check. Reads Sigstore bundles (v0.1 to v0.3), JSON Lines of
bundles (gh attestation download), PEP 740 attestations (*.publish.attestation), PyPI provenance
objects and the npm registry's attestations documents.

  -b, --bundle FILE                 an attestation file (repeat for several)

Who built it (as gh attestation verify; GitHub names in any case, as GitHub compares them):
  -o, --owner ORG                   a repository of this owner built it
  -R, --repo ORG/NAME               this repository built it
      --signer-workflow ORG/NAME/.github/workflows/FILE
                                    this workflow signed (a reusable workflow, say;
                                    with --owner or --repo: anyone may call it)
      --signer-repo ORG/NAME        a workflow of this repository signed (idem)
      --source-ref REF              the git ref built (refs/tags/v1.2.0)
      --source-digest SHA           the commit built
      --signer-digest SHA           the commit of the workflow that signed
      --deny-self-hosted-runners    only builds on GitHub-hosted runners
      --certificate-identity ID     the signer's SAN, exactly (instead of the flags above)
      --certificate-identity-regexp RE
                                    ... or an anchored regular expression
      --certificate-oidc-issuer URL the OIDC issuer (default: GitHub Actions')
      --certificate-oidc-issuer-regexp RE
      --certificate-extension NAME=VALUE
                                    also require a Fulcio extension (repeatable), by name
                                    or OID: deploymentEnvironment=production, ...
      --policy NAME|FILE            a policy (also with predicate fields; see README:
                                    Policies); github-releases for GitHub release
                                    attestations; all that is given must hold
      --predicate-type URI          accept this predicate type (repeatable; default
                                    ${SLSA_PROVENANCE_V1}; also e.g. ${SLSA_PROVENANCE_V02},
                                    https://docs.pypi.org/attestations/publish/v1)

Trust:
      --trusted-root FILE           a trusted_root.json: public-good, staging, GitHub's own
                                    instance (timestamps, no log), ...
      --offline                     the public-good root pinned in kernelseal, no TUF refresh
      --npm-keys FILE               the npm registry's keys document (default: the copy
                                    pinned in @sigstore/tuf)

${OUTPUT_HELP}

gh's spellings work too: --cert-identity, --cert-identity-regex, --cert-oidc-issuer,
--custom-trusted-root, -R, -o, --format json.

Examples:
  kernelseal verify-attestation dist/pkg-1.0.tar.gz --bundle pkg-1.0.tar.gz.intoto.sigstore.json \\
      --repo org/pkg --source-ref refs/tags/v1.0
  kernelseal verify-attestation sigstore-2.3.1.tgz --bundle attestations.json --repo sigstore/sigstore-js
  kernelseal verify-attestation pkg.tar.gz --bundle pkg.tar.gz.publish.attestation --repo org/pkg \\
      --predicate-type https://docs.pypi.org/attestations/publish/v1

Exit status: 0 all verified and the policy holds, 1 not, 2 usage error or a file named on
the command line that cannot be read.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(
      args,
      {
        policy: TRUST_OPTIONS.policy,
        ...IDENTITY_OPTIONS,
        'trusted-root': TRUST_OPTIONS['trusted-root'],
        offline: TRUST_OPTIONS.offline,
        bundle: { type: 'string', short: 'b', multiple: true },
        owner: { type: 'string', short: 'o' },
        repo: { type: 'string', short: 'R' },
        'signer-workflow': { type: 'string' },
        'signer-repo': { type: 'string' },
        'source-ref': { type: 'string' },
        'source-digest': { type: 'string' },
        'signer-digest': { type: 'string' },
        'deny-self-hosted-runners': { type: 'boolean', default: false },
        'predicate-type': { type: 'string', multiple: true },
        'npm-keys': { type: 'string' },
        ...OUTPUT_OPTIONS,
      },
      TRUST_ALIASES,
    );
    const bundles = values.bundle ?? [];
    if (bundles.length === 0) throw new UsageError('--bundle is required (an attestation file)');
    if (positionals.length !== 1) throw new UsageError('expected exactly one artifact (a path, sha256:<hex> or sha512:<hex>)');
    const subject = positionals[0]!;
    // The command line's own faults first (an unpinned signer), then the files it names.
    const policy = await policyFrom(values);
    const missing = bundles.find((bundle) => !existsSync(bundle));
    if (missing !== undefined) throw new UsageError(`--bundle ${missing}: no such file`);
    const npmKeys = values['npm-keys'] === undefined ? undefined : await readNpmKeys(values['npm-keys']).catch(usage);
    const trustedRoot = await trustedRootsFrom(values);
    const output = new Output(this.name, values);
    const bar = new ProgressBar(`hashing ${printable(subject)}`, output);
    const { artifact, checked } = await readArtifact(subject, (p) => bar.update(p)).finally(() => bar.clear());
    const result = await verifyAttestation({ artifact, bundles, trustedRoot, policy, predicateTypes: values['predicate-type'], npmKeys });
    output.add({ kind: 'attestations', subject, result, policy: policy?.description, checked: result.ok ? checked : undefined });
    return output.finish();
  },
};

type PolicyValues = IdentityValues & {
  policy?: string;
  owner?: string;
  repo?: string;
  'signer-workflow'?: string;
  'signer-repo'?: string;
  'source-ref'?: string;
  'source-digest'?: string;
  'signer-digest'?: string;
  'deny-self-hosted-runners'?: boolean;
};

/** --policy NAME|FILE: attestations are verified by identities, never by a trust file's key or CA. */
async function identityPolicyFile(name: string): Promise<Policy> {
  const anchor = await trustAnchorFrom({ policy: name });
  if (!('policy' in anchor)) throw new UsageError(`--policy ${name}: names a key or a CA chain; verify-attestation needs a policy of identities`);
  return anchor.policy;
}

/**
 * The policy of the command line: the gh-style flags (issuer GitHub Actions' unless given) and
 * --policy, all of which must hold. Undefined when none names a signer: then only npm registry
 * attestations can verify. Source flags without a signer are a mistake, not a wider trust.
 */
async function policyFrom(values: PolicyValues): Promise<Policy | undefined> {
  const identity = matchFromFlags(values, 'certificate-identity');
  const issuer = matchFromFlags(values, 'certificate-oidc-issuer');
  // A GitHub service's SAN alone (release attestations): no issuer, and none may be named.
  const service = identity && !issuer ? serviceIdentityPolicy(identity) : undefined;
  const sourceFlags = (['owner', 'repo', 'signer-workflow', 'signer-repo', 'source-ref', 'source-digest', 'signer-digest'] as const).filter((flag) => values[flag] !== undefined);
  if (service && sourceFlags.length > 0) {
    throw new UsageError(`--certificate-identity ${values['certificate-identity']} is a GitHub service, whose certificates name no repository: --${sourceFlags[0]} cannot hold (verify a release with verify-release)`);
  }
  let github: Policy | undefined = service;
  try {
    github ??= githubAttestationPolicy({
      owner: values.owner,
      repo: values.repo,
      signerWorkflow: values['signer-workflow'],
      signerRepo: values['signer-repo'],
      sourceRef: values['source-ref'],
      sourceDigest: values['source-digest'],
      signerDigest: values['signer-digest'],
      denySelfHostedRunners: values['deny-self-hosted-runners'],
      identity,
      issuer,
    });
  } catch (error) {
    return usage(error);
  }
  const file =
    values.policy === undefined
      ? undefined
      : values.policy === 'github-releases'
        ? githubReleasesPolicy // a name for attestations only: no kernel is signed that way
        : await identityPolicyFile(values.policy);
  const extensions = extensionPoliciesFrom(values);
  if (!github && !file) {
    const stray = ['certificate-extension', 'source-ref', 'source-digest', 'signer-digest', 'deny-self-hosted-runners', 'certificate-oidc-issuer', 'certificate-oidc-issuer-regexp'].filter(
      (flag) => values[flag as keyof PolicyValues] !== undefined && values[flag as keyof PolicyValues] !== false,
    );
    if (stray.length > 0) throw new UsageError(`--${stray[0]} needs a signer: --owner, --repo, --signer-workflow, --signer-repo, --certificate-identity or --policy`);
    return undefined;
  }
  const parts = [github, file, ...extensions].filter((p): p is Policy => p !== undefined);
  try {
    return requirePinned(parts.length === 1 ? parts[0]! : allOf(parts));
  } catch (error) {
    return usage(error);
  }
}

/** A policy, key document or flag the user gave that cannot be used is a usage error (exit 2). */
function usage(error: unknown): never {
  throw error instanceof PolicyError || error instanceof NpmKeysError ? new UsageError(error.message) : error;
}
