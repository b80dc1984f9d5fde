import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from '../output.js';
import { ListRepository } from '../library/signing.js';
import { UsageError, parseCommandLine, type Subcommand } from '../usage.js';
import { folderOperand } from './maintainer-options.js';

export const removeCommand: Subcommand = {
  name: 'remove',
  summary: 'remove an entry from the list (to deny a signer, revoke it instead)',
  help: `Usage: kernelseal publishers remove DIR --repos PATTERN

Removes the entry for PATTERN from DIR/kernel-publishers.json (signed by the next sign).
Removing an entry stops trusting its signer for new verifications, but an org/* entry may
still allow the same signer: to deny a compromised signer, revoke the entry instead.

${OUTPUT_HELP}`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { repos: { type: 'string' }, ...OUTPUT_OPTIONS });
    const dir = folderOperand(positionals, 'the list to edit');
    if (values.repos === undefined) throw new UsageError('--repos PATTERN is required: the entry to remove');
    const repository = await ListRepository.read(dir);
    await repository.editDraft((list) => {
      const index = list.entries.findIndex((e) => String(e.repos).toLowerCase() === values.repos!.toLowerCase());
      if (index < 0) throw new UsageError(`${values.repos}: the list has no such entry`);
      list.entries.splice(index, 1);
    });
    const output = new Output('publishers remove', values);
    output.add({ kind: 'list-changed', subject: dir, change: { action: 'removed', repos: values.repos } });
    return output.finish();
  },
};
