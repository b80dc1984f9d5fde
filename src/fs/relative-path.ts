// One rule for the paths signed documents name (docs/architecture.md, "one home for each rule").

/**
 * Why `path` cannot name a file inside a tree, if it cannot: a relative, `/`-separated path
 * with no empty, `.` or `..` segment, no NUL and no backslash. Digest keys, Hub listings and
 * model signing's resource names (its specification canonicalizes paths so) all follow it:
 * the walkers never produce anything else, and a fetcher or verifier going by these names
 * must not be led outside the tree.
 */
export function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'an empty path';
  if (path.includes('\0')) return 'a NUL byte';
  if (path.includes('\\')) return 'a backslash (paths are /-separated)';
  if (path.startsWith('/')) return 'an absolute path';
  // The segments between slashes, checked without splitting (a digest may list 100,000 paths).
  if (path.endsWith('/') || path.includes('//')) return 'an empty path segment';
  if (/(?:^|\/)\.\.?(?:\/|$)/.test(path)) return 'a "." or ".." segment';
  return undefined;
}
