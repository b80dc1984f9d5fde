import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from '../output.js';
import { openList, publisherListNamed } from '../publisher-options.js';
import { UsageError, parseCommandLine, type Subcommand } from '../usage.js';

export const showCommand: Subcommand = {
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

${OUTPUT_HELP}

Example:
  kernelseal publishers show hf://datasets/trust-org/kernel-publishers --publishers-root root.json`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      'publishers-root': { type: 'string' },
      offline: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      ...OUTPUT_OPTIONS,
    });
    if (positionals.length > 1) throw new UsageError('expected one list');
    const named = publisherListNamed({ ...values, publishers: positionals[0] });
    if (!named) throw new UsageError('name the list: kernelseal publishers show LIST (or KERNELSEAL_PUBLISHERS)');
    const list = await openList(named, values, (message) => process.stderr.write(`kernelseal: warning: ${message}\n`));
    const output = new Output('publishers show', values);
    output.add({ kind: 'publisher-list', subject: list.location, list });
    return output.finish();
  },
};
