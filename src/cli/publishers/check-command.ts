import { checkRepository } from '../../kernels/publishers/check-repository.js';
import { printable } from '../format.js';
import { EXIT_FAILURE, EXIT_OK, parseCommandLine, type Command } from '../usage.js';
import { folderOperand } from './maintainer-options.js';
import { describeList, listToJSON } from './show-command.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'read the folder as a client would, before uploading it',
  help: `Usage: kernelseal publishers check DIR [--root ROOT] [--json]

Reads DIR as a fresh client would (TUF from the pinned root, every rule verify applies) and
prints the list; refuses a private key anywhere in DIR and a root that lists one key twice or
gives a root key an online role; warns about each role with less than half its lifetime left
and about edits not yet signed. Run it before every upload.

      --root ROOT                   the root users pin (default: DIR/metadata/1.root.json)
      --json                        print what was found as JSON

Exit status: 0 a client accepts the folder (warnings may remain), 1 it does not.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { root: { type: 'string' }, json: { type: 'boolean', default: false } });
    const dir = folderOperand(positionals, 'the list to check');
    const found = await checkRepository(dir, values.root === undefined ? {} : { root: values.root });
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ok: found.problems.length === 0, problems: found.problems, warnings: found.warnings, ...(found.list ? { list: listToJSON(found.list) } : {}) }, null, 2)}\n`);
    } else {
      if (found.list) process.stdout.write(`${describeList(found.list)}\n`);
      for (const warning of found.warnings) process.stdout.write(`⚠️  ${printable(warning)}\n`);
      for (const problem of found.problems) process.stdout.write(`❌ ${printable(problem)}\n`);
      if (found.problems.length === 0) process.stdout.write(`✅ ${printable(dir)}: a client accepts this list\n`);
    }
    return found.problems.length === 0 ? EXIT_OK : EXIT_FAILURE;
  },
};
