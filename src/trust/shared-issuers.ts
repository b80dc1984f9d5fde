import { FULCIO_OID } from './certificate-identity.js';
import type { StringMatch } from './string-match.js';

/**
 * OIDC issuers that give a token to anyone who signs up: on them the issuer vouches for an
 * account, not for a signer anyone trusts, so a policy that accepts one of them must also pin the
 * signer (README: Policies). Taken from Sigstore's public-good Fulcio configuration (its
 * config/identity/config.yaml: the email issuers and CI providers open to the public) and the
 * issuers its federated login (Dex) writes. An issuer of one organisation (a CircleCI or GitHub
 * Enterprise issuer URL per organisation, a Kubernetes cluster, your own Keycloak) is not here:
 * it vouches only for its own members.
 *
 * `owner` says what a signer's identity must fix to name an owner: for CI providers, the start
 * of the SAN (a URI) up to and including its owner's path segment; for email issuers, the
 * domain (`@example.com`) at the end.
 */
interface SharedIssuer {
  name: string;
  issuer: string;
  owner: RegExp;
}

/** An address's domain: `@example.com` at the end. */
const EMAIL = /@[^@\s]+\.[^@\s]+$/;

export const SHARED_ISSUERS: readonly SharedIssuer[] = [
  { name: 'GitHub Actions', issuer: 'https://token.actions.githubusercontent.com', owner: /^https:\/\/github\.com\/[^/]+\// },
  ...['gitlab.com', 'dev.gitlab.org', 'gitlab.archlinux.org', 'ops.gitlab.net'].map((host) => ({
    name: `GitLab (${host})`,
    issuer: `https://${host}`,
    owner: new RegExp(`^https://${host.replaceAll('.', '\\.')}/[^/]+/`),
  })),
  { name: 'Buildkite', issuer: 'https://agent.buildkite.com', owner: /^https:\/\/buildkite\.com\/[^/]+\// },
  { name: 'CircleCI', issuer: 'https://oidc.circleci.com', owner: /^https:\/\/circleci\.com\/api\/v2\/projects\/[^/]+\// },
  { name: 'Codefresh', issuer: 'https://oidc.codefresh.io', owner: /^https:\/\/g\.codefresh\.io\/[^/]+\// },
  { name: 'Google accounts', issuer: 'https://accounts.google.com', owner: EMAIL },
  { name: 'GitHub accounts', issuer: 'https://github.com/login/oauth', owner: EMAIL },
  { name: 'Microsoft accounts', issuer: 'https://login.microsoftonline.com', owner: EMAIL },
  { name: "Sigstore's login", issuer: 'https://oauth2.sigstore.dev/auth', owner: EMAIL },
  { name: 'Hellō', issuer: 'https://issuer.hello.coop', owner: EMAIL },
  { name: 'Kaggle', issuer: 'https://www.kaggle.com/api/v1/models/signing', owner: EMAIL },
  { name: 'IBM', issuer: 'https://sigstore.verify.ibm.com/oauth2', owner: EMAIL },
  { name: 'Eclipse Foundation', issuer: 'https://auth.eclipse.org/auth/realms/foundation-service-accounts', owner: EMAIL },
];

/** The shared issuers `issuer` (a policy's issuer match) accepts, by name. */
export function sharedIssuersAccepted(issuer: StringMatch): string[] {
  return SHARED_ISSUERS.filter((shared) => issuer.test(shared.issuer)).map((shared) => shared.name);
}

/**
 * Whether a match on the SAN pins a signer: it accepts only listed values, or every value it
 * accepts starts with a shared issuer's owner (`https://github\.com/my-org/.*`) or ends with an
 * email domain (`.*@example\.com`). `.*`, `https://github\.com/.*` and `https://github\.com/my-org.*`
 * (which `my-org-evil` matches) pin nobody.
 */
export function pinsSubject(match: StringMatch): boolean {
  if (match.values !== undefined) return true;
  const literal = match.literal;
  if (literal === undefined) return false;
  return SHARED_ISSUERS.some(({ owner }) => (owner === EMAIL ? owner.test(literal.suffix) : owner.test(literal.prefix)));
}

/** The Fulcio extensions that name the repository built, its owner, or the workflow that built it. */
const SIGNER_EXTENSIONS = new Map<string, 'uri' | 'repository' | 'identifier'>([
  [FULCIO_OID.sourceRepositoryURI, 'uri'],
  [FULCIO_OID.sourceRepositoryOwnerURI, 'uri'],
  [FULCIO_OID.buildSignerURI, 'uri'],
  [FULCIO_OID.buildConfigURI, 'uri'],
  [FULCIO_OID.sourceRepositoryIdentifier, 'identifier'],
  [FULCIO_OID.sourceRepositoryOwnerIdentifier, 'identifier'],
  [FULCIO_OID.githubWorkflowRepository, 'repository'],
]);

/**
 * Whether a match on extension `oid` pins a signer: the extension names a repository or its owner
 * (source repository, owner, their ids, the build signer or config), and the match accepts only
 * listed values or fixes the owner as the SAN must (`owner/` for the legacy `owner/name`).
 */
export function pinsExtension(oid: string, match: StringMatch): boolean {
  const kind = SIGNER_EXTENSIONS.get(oid);
  if (kind === undefined) return false;
  if (match.values !== undefined) return true;
  const literal = match.literal;
  if (literal === undefined) return false;
  if (kind === 'uri') return SHARED_ISSUERS.some(({ owner }) => owner !== EMAIL && owner.test(literal.prefix));
  return kind === 'repository' && /^[^/]+\//.test(literal.prefix);
}
