import { existsSync } from 'node:fs';
import { offlineFromEnv, listLocation, openPublisherList, type VerifiedPublisherList, isRepoId } from './library/verifying.js';
import { UsageError, parseDuration } from './usage.js';

/** The options of a trusted publisher list (docs/publishers.md), for verify and publishers show. */
export const PUBLISHER_OPTIONS = {
  publishers: { type: 'string' },
  'publishers-root': { type: 'string' },
  repo: { type: 'string' },
} as const;

export const PUBLISHER_HELP = `A trusted publisher list instead (see README: Trusted publisher lists):
      --publishers LIST             the list: hf://[datasets/|models/]org/name[@rev], an
                                    https:// URL or a folder (env KERNELSEAL_PUBLISHERS)
      --publishers-root ROOT        its pinned first root: a root.json file, or
                                    sha256:<hex> of its 1.root.json (env KERNELSEAL_PUBLISHERS_ROOT)
      --repo org/name               the Hub repository a local variant comes from: the
                                    list's entries for that name decide who may sign it
A list excludes --policy, the identity flags, --key and --certificate-chain. It is refreshed
at most once an hour (a revocation can take that long to reach you); offline, the cached list
is used up to 7 days after its last refresh, while it is unexpired.`;

/** The flags that say who is trusted otherwise: never together with a list. */
const OTHER_TRUST = ['policy', 'certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'certificate-oidc-issuer-regexp', 'key', 'certificate-chain', 'insecure-ignore-tlog'] as const;

type PublisherValues = { publishers?: string; 'publishers-root'?: string; repo?: string; offline?: boolean; timeout?: string | boolean } & Partial<
  Record<(typeof OTHER_TRUST)[number], string | boolean>
>;

/** The list and its root the user named (flags, else KERNELSEAL_PUBLISHERS / KERNELSEAL_PUBLISHERS_ROOT), or undefined. */
export function publisherListNamed(values: PublisherValues): { list: string; root: string } | undefined {
  const list = values.publishers ?? (process.env.KERNELSEAL_PUBLISHERS || undefined);
  const root = values['publishers-root'] ?? (process.env.KERNELSEAL_PUBLISHERS_ROOT || undefined);
  if (list === undefined) {
    if (values['publishers-root'] !== undefined) throw new UsageError('--publishers-root goes with a list: --publishers LIST (or KERNELSEAL_PUBLISHERS)');
    return undefined;
  }
  if (root === undefined) throw new UsageError(`a publisher list needs its pinned root: --publishers-root root.json or sha256:<hex> (or KERNELSEAL_PUBLISHERS_ROOT); it is never fetched on trust`);
  if (!/^sha256:[0-9a-f]{64}$/.test(root) && !existsSync(root)) throw new UsageError(`--publishers-root ${root}: no such file (a root.json file, or sha256:<hex> of the list's 1.root.json)`);
  return { list, root };
}

/**
 * The trust anchor of a list for `repoId`, when a list is named; undefined otherwise. A list
 * together with another way of saying who is trusted is ambiguous: a usage error, never one of
 * them silently dropped. A list that cannot be used throws (PublisherListError): never a fall
 * back to the default policy.
 */
/**
 * The publisher list the command line names, opened for `repoId`; with `pin` (what a kernels.lock
 * records of the list it was made with), only that root and no older targets version.
 */
export async function publisherAnchorFrom(
  values: PublisherValues,
  repoId: string | undefined,
  onWarning: (message: string) => void,
  pin?: { rootDigest: string; minTargetsVersion: number },
): Promise<{ publishers: { list: VerifiedPublisherList; repoId: string } } | undefined> {
  const named = publisherListNamed(values);
  if (!named) {
    if (values.repo !== undefined) throw new UsageError('--repo names the Hub repository a publisher list decides for: give the list (--publishers)');
    return undefined;
  }
  const other = OTHER_TRUST.filter((flag) => values[flag] !== undefined && values[flag] !== false);
  if (other.length > 0) {
    const from = values.publishers === undefined ? 'KERNELSEAL_PUBLISHERS names a publisher list' : '--publishers names a publisher list';
    throw new UsageError(`${from}: it decides who is trusted, and excludes ${other.map((flag) => `--${flag}`).join(', ')} (give one or the other)`);
  }
  if (repoId === undefined) throw new UsageError('a publisher list decides for a Hub repository: name the one these files come from with --repo org/name');
  if (!isRepoId(repoId)) throw new UsageError(`--repo ${repoId}: a Hub repository is org/name (ASCII letters, digits, ".", "_", "-")`);
  return { publishers: { list: await openList({ ...named, ...pin }, values, onWarning), repoId } };
}

/** Opens the list the user named, with the command line's offline switch and Hub deadline. */
export async function openList(named: { list: string; root: string; rootDigest?: string; minTargetsVersion?: number }, values: PublisherValues, onWarning: (message: string) => void): Promise<VerifiedPublisherList> {
  try {
    listLocation(named.list);
  } catch (error) {
    // A location that names nothing a list can be is the command line's mistake.
    if (error instanceof TypeError) throw new UsageError(`--publishers: ${error.message}`);
    throw error;
  }
  return openPublisherList({
    list: named.list,
    root: named.root,
    rootDigest: named.rootDigest,
    minTargetsVersion: named.minTargetsVersion,
    offline: values.offline === true || offlineFromEnv(),
    hub: typeof values.timeout === 'string' ? { timeoutMs: parseDuration(values.timeout, '--timeout') } : {},
    onWarning,
  });
}
