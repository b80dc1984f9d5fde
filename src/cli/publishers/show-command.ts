import type { VerifiedPublisherList } from '../../kernels/publishers/open-list.js';
import type { PublisherEntry } from '../../trust/publisher-list.js';
import { printable } from '../format.js';
import { openList, publisherListNamed } from '../publisher-options.js';
import { EXIT_OK, UsageError, parseCommandLine, type Command } from '../usage.js';

export const showCommand: Command = {
  name: 'show',
  summary: 'print a list as this machine verifies it: version, expiry, last refresh, entries',
  help: `Usage: kernelseal publishers show [LIST] [--publishers-root ROOT] [--offline] [--json]

Opens the list as verify does (TUF from the pinned root, refreshed at most once an hour,
offline from the cache within 7 days of its last refresh) and prints its version, when it
expires, when it was last refreshed, and its entries.

      LIST                          hf://[datasets/|models/]org/name[@rev], an https:// URL or a
                                    folder (default: KERNELSEAL_PUBLISHERS)
      --publishers-root ROOT        the pinned root: a root.json or sha256:<hex> of 1.root.json
                                    (default: KERNELSEAL_PUBLISHERS_ROOT)
      --offline                     the cached list only, no network (also HF_HUB_OFFLINE=1)
      --timeout DURATION            the longest wait for any answer from the Hub (30s)
      --json                        print the list as JSON

Example:
  kernelseal publishers show hf://datasets/trust-org/kernel-publishers --publishers-root root.json`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      'publishers-root': { type: 'string' },
      offline: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length > 1) throw new UsageError('expected one list');
    const named = publisherListNamed({ ...values, publishers: positionals[0] });
    if (!named) throw new UsageError('name the list: kernelseal publishers show LIST (or KERNELSEAL_PUBLISHERS)');
    const list = await openList(named, values, (message) => process.stderr.write(`kernelseal: warning: ${message}\n`));
    process.stdout.write(values.json ? `${JSON.stringify(listToJSON(list), null, 2)}\n` : `${describeList(list)}\n`);
    return EXIT_OK;
  },
};

/** A list for --json: plain data. */
export function listToJSON(list: VerifiedPublisherList): Record<string, unknown> {
  return {
    location: list.location,
    version: list.version,
    expires: list.expires.toISOString(),
    lastRefresh: list.lastRefresh.toISOString(),
    from: list.from,
    rootDigest: list.rootDigest,
    roles: Object.fromEntries(Object.entries(list.roles).map(([role, state]) => [role, { version: state.version, expires: state.expires.toISOString() }])),
    entries: list.entries.map((entry) => ({
      repos: entry.repos,
      policy: entry.policy.description,
      ...(entry.validFrom ? { validFrom: entry.validFrom.toISOString() } : {}),
      ...(entry.validUntil ? { validUntil: entry.validUntil.toISOString() } : {}),
      ...(entry.revoked ? { revoked: { at: entry.revoked.at.toISOString(), reason: entry.revoked.reason } } : {}),
      ...(entry.note === undefined ? {} : { note: entry.note }),
    })),
  };
}

/** A list for people: what it is, how fresh, then each entry. */
export function describeList(list: Pick<VerifiedPublisherList, 'location' | 'version' | 'expires' | 'lastRefresh' | 'from' | 'rootDigest' | 'roles' | 'entries'>): string {
  const lines = [
    `${printable(list.location)}: version ${list.version}, expires ${list.expires.toISOString()}`,
    `   last refreshed ${list.lastRefresh.toISOString()}${list.from === 'cache' ? ' (read from the cache now)' : ' (now)'}; root ${list.rootDigest} version ${list.roles.root.version}`,
    list.entries.length === 0 ? '   no entries: it trusts no publisher' : `   ${list.entries.length} ${list.entries.length === 1 ? 'entry' : 'entries'}:`,
    ...list.entries.flatMap(describeEntry),
  ];
  return lines.join('\n');
}

function describeEntry(entry: PublisherEntry): string[] {
  const lines = [`   ${printable(entry.repos)}${entry.note === undefined ? '' : `  (${printable(entry.note)})`}`, `      ${printable(entry.policy.description)}`];
  if (entry.validFrom || entry.validUntil) lines.push(`      valid from ${entry.validFrom?.toISOString() ?? 'any time'} until ${entry.validUntil?.toISOString() ?? 'any time'}`);
  if (entry.revoked) lines.push(`      REVOKED at ${entry.revoked.at.toISOString()}: ${printable(entry.revoked.reason)}`);
  return lines;
}
