import { isGitHubRepository } from '../github-repository.js';
import { FULCIO_OID, describeExtension, type CertificateIdentity } from './certificate-identity.js';
import { PolicyError } from './policy-error.js';
import { pinsExtension, pinsSubject, sharedIssuersAccepted } from './shared-issuers.js';
import { exactly, oneOf, type StringMatch } from './string-match.js';

/** The in-toto statement a signature carries, for policies on its predicate (predicate-policy.ts). */
export interface InTotoStatement {
  predicateType: string;
  predicate: unknown;
}

/**
 * Who is trusted: a predicate over the identity in a verified Fulcio certificate. There is no
 * policy that trusts anyone; every way to satisfy a policy pins the OIDC issuer.
 */
export interface Policy {
  /** One line for people: what the policy requires. */
  readonly description: string;
  /** True when every way to satisfy the policy pins the OIDC issuer. */
  readonly pinsIssuer: boolean;
  /**
   * True when every way to satisfy the policy pins the signer: a SAN or a source repository that
   * names an owner (src/trust/shared-issuers.ts says which matches do).
   */
  readonly pinsSigner: boolean;
  /**
   * The shared issuers (GitHub Actions, Google accounts, ...: src/trust/shared-issuers.ts) that
   * some way to satisfy the policy accepts without pinning the signer: anyone there could sign.
   */
  readonly unpinnedIssuers: readonly string[];
  /**
   * Undefined when `identity` satisfies the policy, else why not. `statement` is the in-toto
   * statement the signature carries (attestations), for policies on its predicate.
   */
  check(identity: CertificateIdentity, statement?: InTotoStatement): string | undefined;
  /**
   * Build signer URIs (the `.9` extension: the workflow that signed) the policy declares to
   * re-sign builds another run made, such as kernels-community's sign-old-builds. Their
   * signature vouches for the files, not for the source metadata.json states, so that source is
   * not held against theirs (src/kernels/source-provenance.ts), and the result says so.
   */
  readonly resigners?: readonly string[];
}

/** The OIDC issuer, as `.8` and the legacy `.1` carry it: each one present must match. */
export function issuerPolicy(match: StringMatch): Policy {
  return {
    description: `issuer ${match.description}`,
    pinsIssuer: true,
    pinsSigner: false,
    unpinnedIssuers: sharedIssuersAccepted(match),
    check(identity) {
      const values = [FULCIO_OID.issuer, FULCIO_OID.issuerV1]
        .filter((oid) => identity.extensions.has(oid) || identity.undecodable.has(oid))
        .map((oid) => [oid, identity.extensions.get(oid)] as const);
      if (values.length === 0) return 'the certificate names no OIDC issuer';
      for (const [oid, value] of values) {
        if (value === undefined) return `the certificate's ${describeExtension(oid)} cannot be decoded: ${identity.undecodable.get(oid)}`;
        if (!match.test(value)) return `issuer is ${JSON.stringify(value)}, expected ${match.description}`;
      }
      return undefined;
    },
  };
}

/** The subject alternative name (a workflow URI or an email address). */
export function subjectPolicy(match: StringMatch): Policy {
  return {
    description: `identity ${match.description}`,
    pinsIssuer: false,
    pinsSigner: pinsSubject(match),
    unpinnedIssuers: [],
    check(identity) {
      const san = identity.subjectAlternativeName;
      if (san === undefined) return 'the certificate has no subject alternative name';
      return match.test(san) ? undefined : `identity is ${JSON.stringify(san)}, expected ${match.description}`;
    },
  };
}

/** One Fulcio extension (`.8` and up compared after DER decoding). */
export function extensionPolicy(oid: string, match: StringMatch): Policy {
  if (oid === FULCIO_OID.issuer || oid === FULCIO_OID.issuerV1) return issuerPolicy(match);
  return {
    description: `${describeExtension(oid)} ${match.description}`,
    pinsIssuer: false,
    pinsSigner: pinsExtension(oid, match),
    unpinnedIssuers: [],
    check(identity) {
      const value = identity.extensions.get(oid);
      if (value === undefined) {
        const why = identity.undecodable.get(oid);
        return why ? `the certificate's ${describeExtension(oid)} cannot be decoded: ${why}` : `the certificate has no ${describeExtension(oid)}`;
      }
      return match.test(value) ? undefined : `${describeExtension(oid)} is ${JSON.stringify(value)}, expected ${match.description}`;
    },
  };
}

/** Every policy must hold; the first that does not is the reason. */
export function allOf(policies: readonly Policy[], description?: string): Policy {
  if (policies.length === 0) throw new PolicyError('"allOf" needs at least one policy');
  // One member that pins the signer pins it on every path; else a path may pin none.
  const pinsSigner = policies.some((p) => p.pinsSigner);
  return {
    description: description ?? policies.map((p) => p.description).join(' and '),
    pinsIssuer: policies.some((p) => p.pinsIssuer),
    pinsSigner,
    unpinnedIssuers: pinsSigner ? [] : union(policies),
    ...resignersOf(policies),
    check(identity, statement) {
      for (const policy of policies) {
        const reason = policy.check(identity, statement);
        if (reason !== undefined) return reason;
      }
      return undefined;
    },
  };
}

/** At least one policy must hold; otherwise every reason is given. */
export function anyOf(policies: readonly Policy[], description?: string): Policy {
  if (policies.length === 0) throw new PolicyError('"anyOf" needs at least one policy');
  if (policies.length === 1) return policies[0]!;
  return {
    description: description ?? `any of: ${policies.map((p) => `(${p.description})`).join(', ')}`,
    pinsIssuer: policies.every((p) => p.pinsIssuer),
    pinsSigner: policies.every((p) => p.pinsSigner),
    unpinnedIssuers: union(policies),
    ...resignersOf(policies),
    check(identity, statement) {
      const reasons: string[] = [];
      for (const policy of policies) {
        const reason = policy.check(identity, statement);
        if (reason === undefined) return undefined;
        reasons.push(reason);
      }
      return `no policy matched: ${reasons.map((r, i) => `(${i + 1}) ${r}`).join('; ')}`;
    },
  };
}

/** Identity (subject alternative name) and OIDC issuer, as cosign's --certificate-identity flags. */
export function identityPolicy(identity: StringMatch, issuer: StringMatch): Policy {
  return allOf([issuerPolicy(issuer), subjectPolicy(identity)]);
}

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

export interface GitHubWorkflowOptions {
  /** `owner/name` of the repository whose build is trusted. */
  repository: string;
  /**
   * The workflow that signs: a path in the repository (`.github/workflows/build.yaml`) or, for a
   * reusable workflow, `owner/name/.github/workflows/x.yaml`. Optional.
   */
  workflow?: string;
  /** The git ref built, e.g. `refs/heads/main` (the source repository ref). Optional. */
  ref?: string;
  /** The ref of the signing workflow, when it differs from `ref` (reusable workflows). */
  workflowRef?: string;
}

/** Builds of a GitHub repository by GitHub Actions, optionally by one workflow and ref. */
export function githubWorkflowPolicy(options: GitHubWorkflowOptions): Policy {
  const { repository, workflow, ref } = options;
  if (!isGitHubRepository(repository)) throw new PolicyError(`github repository must be "owner/name", not ${JSON.stringify(repository)}`);
  const policies = [
    issuerPolicy(exactly(GITHUB_ACTIONS_ISSUER)),
    extensionPolicy(FULCIO_OID.sourceRepositoryURI, exactly(`https://github.com/${repository}`)),
  ];
  if (ref !== undefined) policies.push(extensionPolicy(FULCIO_OID.sourceRepositoryRef, exactly(ref)));
  if (workflow !== undefined) {
    const path = workflow.startsWith('.github/') ? `${repository}/${workflow}` : workflow;
    const signerRef = options.workflowRef ?? ref;
    if (signerRef === undefined) throw new PolicyError('a github workflow policy with a workflow needs its ref (ref or workflowRef)');
    policies.push(extensionPolicy(FULCIO_OID.buildSignerURI, exactly(`https://github.com/${path}@${signerRef}`)));
  }
  return allOf(policies, `GitHub Actions builds of ${repository}${workflow ? ` by ${workflow}` : ''}${ref ? ` at ${ref}` : ''}`);
}

const KERNELS_COMMUNITY = 'https://github.com/huggingface/kernels-community';

const kernelsCommunityWorkflow = (workflow: string) => `${KERNELS_COMMUNITY}/.github/workflows/${workflow}.yaml@refs/heads/main`;

/**
 * The reference's default: builds of huggingface/kernels-community on main, signed by one of
 * its four build workflows. One of them, sign-old-builds, signs builds earlier runs made: it is
 * declared a re-signer, whose signature is not compared on source (docs/design.md section 5).
 */
export const kernelsCommunityPolicy: Policy = {
  ...allOf(
    [
      issuerPolicy(exactly(GITHUB_ACTIONS_ISSUER)),
      extensionPolicy(FULCIO_OID.sourceRepositoryURI, exactly(KERNELS_COMMUNITY)),
      extensionPolicy(FULCIO_OID.buildSignerURI, oneOf(['build', 'build-mac', 'build-windows', 'sign-old-builds'].map(kernelsCommunityWorkflow))),
    ],
    'kernels-community: builds of huggingface/kernels-community on main by its build workflows',
  ),
  resigners: [kernelsCommunityWorkflow('sign-old-builds')],
};

/**
 * Certificates without any OIDC issuer. GitHub's own Sigstore instance issues them to its
 * services (release attestations: SAN https://dotcom.releases.github.com); Fulcio always writes
 * the issuer of the token it was shown, so such a certificate never comes from an OIDC login.
 * "No issuer" is the pin.
 */
export function noIssuerPolicy(): Policy {
  return {
    description: 'no OIDC issuer',
    pinsIssuer: true,
    pinsSigner: false,
    unpinnedIssuers: [],
    check(identity) {
      const present = [FULCIO_OID.issuer, FULCIO_OID.issuerV1].find((oid) => identity.extensions.has(oid) || identity.undecodable.has(oid));
      return present ? `the certificate names an OIDC issuer (${describeExtension(present)}), expected none` : undefined;
    },
  };
}

export const GITHUB_RELEASES_IDENTITY = 'https://dotcom.releases.github.com';

/**
 * The SANs of GitHub's release service: `https://<trust domain>.releases.github.com`, "dotcom"
 * for github.com (gh release verify builds the same from its trust domain).
 */
const SERVICE_IDENTITY = /^https:\/\/[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.releases\.github\.com$/;

/**
 * A policy that names a GitHub service's SAN exactly and no issuer: such certificates carry no
 * OIDC issuer, so "no issuer" is required and is the pin. Only exact SANs (or a list of them) of
 * that form qualify: a pattern, or any other SAN, is no pin, and the rule that every policy pins
 * its issuer stands (requirePinned). Undefined when `identity` does not qualify.
 */
export function serviceIdentityPolicy(identity: StringMatch): Policy | undefined {
  const values = identity.values;
  if (!values || values.length === 0 || !values.every((v) => SERVICE_IDENTITY.test(v))) return undefined;
  return allOf([noIssuerPolicy(), subjectPolicy(identity)], `identity ${identity.description}, no OIDC issuer (a GitHub service)`);
}

/** GitHub release attestations, signed by GitHub itself on its own Sigstore instance (`verify-attestation --policy github-releases`). */
export const githubReleasesPolicy: Policy = allOf(
  [noIssuerPolicy(), subjectPolicy(exactly(GITHUB_RELEASES_IDENTITY))],
  `github-releases: GitHub's release attestations (identity ${GITHUB_RELEASES_IDENTITY}, no OIDC issuer)`,
);

/** Policies known by name (`--policy kernels-community`). */
export const NAMED_POLICIES: ReadonlyMap<string, Policy> = new Map([['kernels-community', kernelsCommunityPolicy]]);

/**
 * Refuses a policy that could be satisfied without pinning the issuer, or, on a shared issuer
 * (src/trust/shared-issuers.ts), without pinning the signer: every policy the user gives is
 * read through it.
 */
export function requirePinned(policy: Policy): Policy {
  if (!policy.pinsIssuer) {
    throw new PolicyError(`the policy does not pin the OIDC issuer on every path (${policy.description}); add "issuer"`);
  }
  if (policy.unpinnedIssuers.length > 0) {
    throw new PolicyError(
      `the policy does not pin the signer on ${policy.unpinnedIssuers.join(', ')}, where anyone can sign (${policy.description}): ` +
        'name it by an identity (exact, or a regexp that fixes its owner, e.g. https://github\\.com/my-org/.*, or an email domain), ' +
        'a "github" repository, or a source repository extension',
    );
  }
  return policy;
}

/**
 * The re-signers any of `policies` declares, each once: a declaration names one workflow
 * exactly, and holds wherever in a policy it is made.
 */
function resignersOf(policies: readonly Policy[]): Pick<Policy, 'resigners'> {
  const resigners = [...new Set(policies.flatMap((p) => p.resigners ?? []))];
  return resigners.length > 0 ? { resigners } : {};
}

/** The shared issuers any of `policies` leaves unpinned, each once. */
function union(policies: readonly Policy[]): string[] {
  return [...new Set(policies.flatMap((p) => p.unpinnedIssuers))];
}
