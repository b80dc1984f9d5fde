import { checkRepository } from '../library/verifying.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from '../output.js';
import { parseCommandLine, type Subcommand } from '../usage.js';
import { folderOperand } from './maintainer-options.js';

export const checkCommand: Subcommand = {
  name: 'check',
  summary: 'read the folder as a client would, before uploading it',
  help: `Usage: kernelseal publishers check DIR [--root ROOT] [--json]

Reads DIR as a fresh client would (TUF from the pinned root, every rule verify applies) and
prints the list; refuses a private key anywhere in DIR and a root that lists one key twice or
gives a root key an online role; warns about each role with less than half its lifetime left
and about edits not yet signed. Run it before every upload.

      --root ROOT                   the root users pin (default: DIR/metadata/1.root.json)

${OUTPUT_HELP}

Exit status: 0 a client accepts the folder (warnings may remain), 1 it does not.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { root: { type: 'string' }, ...OUTPUT_OPTIONS });
    const dir = folderOperand(positionals, 'the list to check');
    const found = await checkRepository(dir, values.root === undefined ? {} : { root: values.root });
    const output = new Output('publishers check', values);
    output.add({ kind: 'publisher-check', subject: dir, ...found });
    return output.finish();
  },
};
