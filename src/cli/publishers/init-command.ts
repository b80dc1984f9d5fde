import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from '../output.js';
import { DEFAULT_PERIODS, ListRepository, ROLE_NAMES, formatPeriod, type RoleName } from '../library/signing.js';
import { UsageError, parseCommandLine, type Subcommand } from '../usage.js';
import { folderOperand, keysFlag, periodFlag } from './maintainer-options.js';

export const initCommand: Subcommand = {
  name: 'init',
  summary: 'make a new list: keys (kept outside the folder), a root, an empty list, signed',
  help: `Usage: kernelseal publishers init DIR --keys KEYS [options]

Makes a new trusted publisher list in DIR (absent or empty), the folder you upload to the Hub:
a TUF repository with consistent snapshots, its root (version 1) and an empty list, signed.
New ed25519 keys are written to KEYS (mode 0600), which must lie outside DIR: the root keys
(keep them offline), one targets key (signs the list), and one online key for snapshot and
timestamp (it goes into CI, to re-sign the timestamp on a schedule). No key ever serves both
the root and an online role.

      --keys KEYS                   where the private keys are written (outside DIR)
      --root-keys N                 how many root keys (default 1; 3 or more for a team)
      --root-threshold T            how many root keys must sign a new root (default 1)
      --root-expires P              how long each role's signature lasts: P is 365d, 12h...
      --targets-expires P           (defaults: root ${formatPeriod(DEFAULT_PERIODS.root)}, targets ${formatPeriod(DEFAULT_PERIODS.targets)}, snapshot ${formatPeriod(DEFAULT_PERIODS.snapshot)},
      --snapshot-expires P           timestamp ${formatPeriod(DEFAULT_PERIODS.timestamp)}; 'sign' renews a role when half its time has passed;
      --timestamp-expires P          kept in DIR/publishers-signing.json)

${OUTPUT_HELP}

Example:
  kernelseal publishers init trust-list --keys ~/.kernelseal-keys/trust-list --root-keys 3 --root-threshold 2`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      keys: { type: 'string' },
      'root-keys': { type: 'string', default: '1' },
      'root-threshold': { type: 'string', default: '1' },
      ...Object.fromEntries(ROLE_NAMES.map((role) => [`${role}-expires`, { type: 'string' }])),
      ...OUTPUT_OPTIONS,
    } as Record<string, { type: 'string' | 'boolean'; default?: string | boolean; short?: string }>);
    const dir = folderOperand(positionals, 'the folder to make', true);
    const keys = keysFlag(values.keys as string | undefined);
    const count = (flag: string) => {
      const n = Number(values[flag]);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a whole number, 1 or more`);
      return n;
    };
    const periods = { ...DEFAULT_PERIODS };
    for (const role of ROLE_NAMES) {
      const given = values[`${role}-expires`];
      if (typeof given === 'string') periods[role as RoleName] = periodFlag(given, `--${role}-expires`);
    }
    const made = await ListRepository.init(dir, keys, { rootKeys: count('root-keys'), rootThreshold: count('root-threshold'), periods });
    const root = made.repository.root.signed;
    const keyList = made.keys.map((key) => ({ id: key.id, roles: ROLE_NAMES.filter((role) => root.roles[role]?.keyIDs.includes(key.id)), file: key.file }));
    const output = new Output('publishers init', values);
    output.add({ kind: 'list-changed', subject: dir, change: { action: 'made', rootThreshold: root.roles.root!.threshold, keys: keyList, signed: made.signed, keysDir: keys } });
    return output.finish();
  },
};
