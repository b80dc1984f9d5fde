import { GITHUB_NAME, isGitHubOwner, isGitHubRepository } from '../github-repository.js';
import { PolicyError } from '../trust/policy-error.js';
import { GITHUB_ACTIONS_ISSUER, allOf, issuerPolicy, subjectPolicy, type Policy } from '../trust/policy.js';
import { exactly, matching, type StringMatch } from '../trust/string-match.js';
import { FULCIO_OID, describeExtension } from '../trust/certificate-identity.js';

/** Who built the artifact, in the words of `gh attestation verify`. */
export interface GitHubAttestationPolicyOptions {
  /** The organisation or user whose repository built it. */
  owner?: string;
  /** `owner/name` of the repository that built it. */
  repo?: string;
  /** The workflow that signed: `owner/name/.github/workflows/x.yml` (a reusable workflow, say). */
  signerWorkflow?: string;
  /** The repository of the workflow that signed. */
  signerRepo?: string;
  /** The git ref built (`refs/tags/v1`). */
  sourceRef?: string;
  /** The commit built. */
  sourceDigest?: string;
  /** The commit of the workflow that signed (the build signer digest). */
  signerDigest?: string;
  /** Only builds on GitHub-hosted runners. */
  denySelfHostedRunners?: boolean;
  /** The certificate's SAN, instead of the one the repository flags imply. */
  identity?: StringMatch;
  /** The OIDC issuer; default GitHub Actions'. */
  issuer?: StringMatch;
}

const WORKFLOW = new RegExp(`^${GITHUB_NAME}/${GITHUB_NAME}/\\.github/workflows/[^@\\s]+$`);

/**
 * The policy `gh attestation verify` enforces for these options: the OIDC issuer (GitHub
 * Actions' unless given), the signer's SAN (from --signer-workflow, --signer-repo, --repo or
 * --owner, most precise first, unless an identity is given) and each source fact asked for.
 * Undefined when no option names a signer: nothing here trusts anyone. A signer workflow or
 * repository without owner or repo is refused (PolicyError), as gh refuses it.
 */
export function githubAttestationPolicy(options: GitHubAttestationPolicyOptions): Policy | undefined {
  const { owner, repo, signerWorkflow, signerRepo } = options;
  if (owner !== undefined && !isGitHubOwner(owner)) throw new PolicyError(`owner must be a GitHub user or organisation, not ${JSON.stringify(owner)}`);
  for (const [flag, value] of [['repo', repo], ['signer-repo', signerRepo]] as const) {
    if (value !== undefined && !isGitHubRepository(value)) throw new PolicyError(`${flag} must be "owner/name", not ${JSON.stringify(value)}`);
  }
  const workflow = signerWorkflow?.replace(/^(https:\/\/)?github\.com\//, '');
  if (workflow !== undefined && !WORKFLOW.test(workflow)) {
    throw new PolicyError(`signer-workflow must be "owner/name/.github/workflows/file.yml", not ${JSON.stringify(signerWorkflow)}`);
  }
  // A signer workflow is often a reusable one (GitHub's own attestation workflow, say), which every
  // repository may call: its SAN and signer facts say who signed, never whose build it was. So, as
  // gh attestation verify, the repository built is named too; and the SAN comes from one place.
  const signerFlag = workflow !== undefined ? 'signer-workflow' : signerRepo !== undefined ? 'signer-repo' : undefined;
  if (signerFlag !== undefined && repo === undefined && owner === undefined) {
    throw new PolicyError(`${signerFlag} needs owner or repo: without them every repository that calls the signer's workflows is trusted`);
  }
  if (workflow !== undefined && signerRepo !== undefined) throw new PolicyError('signer-workflow and signer-repo exclude each other (both say who signed)');
  if (signerFlag !== undefined && options.identity !== undefined) throw new PolicyError(`${signerFlag} and certificate-identity exclude each other (both say the signer's SAN)`);
  const identity =
    options.identity ??
    (workflow !== undefined
      ? matching(`${escape(`https://github.com/${workflow}`)}@.+`)
      : // GitHub names are case-insensitive, and gh compares them so.
        [signerRepo, repo, owner].filter((v) => v !== undefined).map((v) => matching(`${escape(`https://github.com/${v}/`)}.+`, 'i'))[0]);
  if (identity === undefined) return undefined;
  const parts = [issuerPolicy(options.issuer ?? exactly(GITHUB_ACTIONS_ISSUER)), subjectPolicy(identity)];
  // Certificates from Fulcio before 2023 carry only the legacy GitHub extensions: those stand in.
  if (repo !== undefined) {
    parts.push(certificateFact('source repository', [FULCIO_OID.sourceRepositoryURI, `https://github.com/${repo}`, 'any-case'], [FULCIO_OID.githubWorkflowRepository, repo, 'any-case'], PINS_SIGNER));
  }
  if (owner !== undefined) {
    parts.push(
      certificateFact('source repository owner', [FULCIO_OID.sourceRepositoryOwnerURI, `https://github.com/${owner}`, 'any-case'], [FULCIO_OID.githubWorkflowRepository, `${owner}/`, 'any-case prefix'], PINS_SIGNER),
    );
  }
  if (options.sourceRef !== undefined) parts.push(certificateFact('source ref', [FULCIO_OID.sourceRepositoryRef, options.sourceRef], [FULCIO_OID.githubWorkflowRef, options.sourceRef]));
  if (options.sourceDigest !== undefined) {
    parts.push(certificateFact('source digest', [FULCIO_OID.sourceRepositoryDigest, options.sourceDigest], [FULCIO_OID.githubWorkflowSha, options.sourceDigest]));
  }
  if (options.signerDigest !== undefined) parts.push(certificateFact('signer digest', [FULCIO_OID.buildSignerDigest, options.signerDigest]));
  if (options.denySelfHostedRunners) parts.push(certificateFact('runner environment', [FULCIO_OID.runnerEnvironment, 'github-hosted']));
  return allOf(parts);
}

/** A value expected exactly, or as a prefix; `any-case` for GitHub's names, which ignore case. */
type Expected = [oid: string, value: string, how?: 'prefix' | 'any-case' | 'any-case prefix'];

/** A fact that names the repository built or its owner: it pins the signer (src/trust/shared-issuers.ts). */
const PINS_SIGNER = true;

/** One fact of the certificate: its extension, or the legacy one when the certificate predates it. */
function certificateFact(name: string, modern: Expected, legacy?: Expected, pinsSigner = false): Policy {
  const shown = (e: Expected) => `${describeExtension(e[0])} ${e[2]?.endsWith('prefix') ? 'starting with ' : ''}${JSON.stringify(e[1])}${e[2]?.startsWith('any-case') ? ' (any case)' : ''}`;
  return {
    description: `${name}: ${shown(modern)}`,
    pinsIssuer: false,
    pinsSigner,
    unpinnedIssuers: [],
    check(identity) {
      for (const expected of legacy ? [modern, legacy] : [modern]) {
        const [oid, value, how] = expected;
        if (identity.undecodable.has(oid)) return `the certificate's ${describeExtension(oid)} cannot be decoded: ${identity.undecodable.get(oid)}`;
        const actual = identity.extensions.get(oid);
        if (actual === undefined) continue;
        const [given, wanted] = how?.startsWith('any-case') ? [actual.toLowerCase(), value.toLowerCase()] : [actual, value];
        const holds = how?.endsWith('prefix') ? given.startsWith(wanted) : given === wanted;
        return holds ? undefined : `${describeExtension(oid)} is ${JSON.stringify(actual)}, expected ${shown(expected)}`;
      }
      return `the certificate has no ${name} (${describeExtension(modern[0])})`;
    },
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
