import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from '../output.js';
import { ListRepository } from '../library/signing.js';
import { UsageError, parseCommandLine, type Subcommand } from '../usage.js';
import { folderOperand } from './maintainer-options.js';

export const revokeCommand: Subcommand = {
  name: 'revoke',
  summary: "revoke an entry's signer from a time on: a deny no other entry overrides",
  help: `Usage: kernelseal publishers revoke DIR --repos PATTERN --reason TEXT [--at TIME]

Marks the entry for PATTERN revoked: a signature its policy accepts that was signed at or
after TIME (any verified signing time; default now) fails, naming the entry, the time and the
reason, whatever other entries allow. Signatures made before TIME still verify. Sign and
upload at once: clients see it within their refresh interval (1 hour by default).

      --repos PATTERN               the entry (org/name or org/*)
      --reason TEXT                 why, shown to users
      --at TIME                     RFC 3339 (2026-11-02T00:00:00Z); default: now

${OUTPUT_HELP}`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { repos: { type: 'string' }, reason: { type: 'string' }, at: { type: 'string' }, ...OUTPUT_OPTIONS });
    const dir = folderOperand(positionals, 'the list to edit');
    if (values.repos === undefined || values.reason === undefined) throw new UsageError('--repos PATTERN and --reason TEXT are required');
    const at = values.at ?? new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const repository = await ListRepository.read(dir);
    await repository.editDraft((list) => {
      const entry = list.entries.find((e) => String(e.repos).toLowerCase() === values.repos!.toLowerCase());
      if (!entry) throw new UsageError(`${values.repos}: the list has no such entry`);
      entry.revoked = { at, reason: values.reason };
    });
    const output = new Output('publishers revoke', values);
    output.add({ kind: 'list-changed', subject: dir, change: { action: 'revoked', repos: values.repos, at, reason: values.reason } });
    return output.finish();
  },
};
