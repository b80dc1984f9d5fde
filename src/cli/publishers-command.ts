import { addCommand } from './publishers/add-command.js';
import { checkCommand } from './publishers/check-command.js';
import { initCommand } from './publishers/init-command.js';
import { removeCommand } from './publishers/remove-command.js';
import { revokeCommand } from './publishers/revoke-command.js';
import { rotateKeyCommand } from './publishers/rotate-key-command.js';
import { showCommand } from './publishers/show-command.js';
import { signCommand } from './publishers/sign-command.js';
import { printable } from './format.js';
import { HelpRequested, UsageError, type Command, type Subcommand } from './usage.js';

/** The subcommands: one for users (show), the rest for a list's maintainers. */
const SUBCOMMANDS: Subcommand[] = [showCommand, initCommand, addCommand, removeCommand, revokeCommand, signCommand, rotateKeyCommand, checkCommand];

const width = Math.max(...SUBCOMMANDS.map((command) => command.name.length));

export const publishersCommand: Command = {
  name: 'publishers',
  help: `Usage: kernelseal publishers <subcommand> [options]

A trusted publisher list says who may sign the kernels of which Hub repositories: a TUF
repository (signed, versioned, expiring) whose one target, kernel-publishers.json, lists
entries (org/name or org/*, a policy of CI identities, an optional validity window and
revocation). 'kernelseal verify --publishers LIST --publishers-root ROOT' verifies against
it; see README: Trusted publisher lists.

Subcommands:
${SUBCOMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Each one:
${SUBCOMMANDS.map((command) => command.help.split('\n')[0]!.replace(/^Usage: /, '  ')).join('\n')}

'kernelseal publishers <subcommand> help' explains a subcommand and its options.

Exit status: 0 done, 1 failed (a list or folder that cannot be used), 2 usage error.`,

  async run(args) {
    const [name, ...rest] = args;
    if (name === '-h' || name === '--help') throw new HelpRequested();
    if (name === undefined) throw new UsageError(`name a subcommand: ${SUBCOMMANDS.map((command) => command.name).join(', ')}`);
    const command = SUBCOMMANDS.find((candidate) => candidate.name === name);
    if (!command) throw new UsageError(`unknown subcommand '${printable(name)}' (${SUBCOMMANDS.map((candidate) => candidate.name).join(', ')})`);
    if (rest[0] === 'help') {
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
    try {
      return await command.run(rest);
    } catch (error) {
      // -h or --help as an option of the subcommand (its parser decides): the subcommand's help.
      if (!(error instanceof HelpRequested)) throw error;
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
  },
};
