/**
 * A GitHub repository as kernelseal takes one, in a policy (`github.repository`), a gh-style flag
 * (`--owner`, `--repo`, `--signer-repo`, `--signer-workflow`) or a release (`verify-release
 * --repo`): `owner/name`, each part made of the characters GitHub allows in names (ASCII letters,
 * digits, `_`, `.` and `-`). A policy then matches the certificate's SAN built from it exactly
 * (src/trust/policy.ts), so this only refuses what can never name a repository: a pattern, a URL,
 * a path with more parts. Not a Hub repository id: that rule is src/repo-id.ts.
 */

/** One part of a GitHub repository's name (an owner, a repository), as a pattern to compose. */
export const GITHUB_NAME = '[A-Za-z0-9_.-]+';

const OWNER = new RegExp(`^${GITHUB_NAME}$`);
const REPOSITORY = new RegExp(`^${GITHUB_NAME}/${GITHUB_NAME}$`);

/** A GitHub user or organisation. */
export function isGitHubOwner(text: string): boolean {
  return OWNER.test(text);
}

/** `owner/name`. */
export function isGitHubRepository(text: string): boolean {
  return REPOSITORY.test(text);
}
