import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from '../output.js';
import { KeyRing, ListRepository } from '../library/signing.js';
import { parseCommandLine, type Subcommand } from '../usage.js';
import { folderOperand, keysFlag, roleFlag } from './maintainer-options.js';

export const signCommand: Subcommand = {
  name: 'sign',
  summary: 'sign what needs it: the edited list, and every role near its expiry',
  help: `Usage: kernelseal publishers sign DIR --keys KEYS [--role ROLE]...

Signs, with the keys KEYS holds, what needs a signature: the targets when kernel-publishers.json
was edited (add, remove, revoke, or by hand), every role whose signature has less than half its
lifetime left (publishers-signing.json) or no longer holds under the root, and then the
snapshot and timestamp above any role signed. Each signature is a new version; old versions
stay in the folder for clients mid-refresh. Upload the folder as one Hub commit afterwards.

      --keys KEYS                   the folder of the private keys; a role whose keys it lacks
                                    (below the role's threshold) is an error, nothing half-signed
      --role ROLE                   sign ROLE again even if not needed (root, targets, snapshot,
                                    timestamp; repeatable). The root is signed only when asked,
                                    with its threshold of root keys.

${OUTPUT_HELP}

Examples:
  kernelseal publishers sign trust-list --keys ~/.kernelseal-keys/trust-list
  # in CI, with only the online key: re-signs the timestamp (and snapshot) when due
  kernelseal publishers sign trust-list --keys "$RUNNER_TEMP/keys"`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { keys: { type: 'string' }, role: { type: 'string', multiple: true, default: [] }, ...OUTPUT_OPTIONS });
    const dir = folderOperand(positionals, 'the list to sign');
    const ring = await KeyRing.read(keysFlag(values.keys));
    const repository = await ListRepository.read(dir);
    const signed = await repository.sign(ring, values.role.map((role) => roleFlag(role, '--role')));
    const output = new Output('publishers sign', values);
    output.add({ kind: 'list-changed', subject: dir, change: { action: 'signed', signed } });
    return output.finish();
  },
};
