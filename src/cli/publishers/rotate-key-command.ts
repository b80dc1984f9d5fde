import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from '../output.js';
import { KeyRing, ListRepository } from '../library/signing.js';
import { UsageError, parseCommandLine, type Subcommand } from '../usage.js';
import { folderOperand, keysFlag, roleFlag } from './maintainer-options.js';

export const rotateKeyCommand: Subcommand = {
  name: 'rotate-key',
  summary: 'replace a key (lost, leaked, or due): a new root, then each role it signed re-signed',
  help: `Usage: kernelseal publishers rotate-key DIR --keys KEYS (--key KEYID | --role ROLE)

Makes a new key in KEYS and puts it in place of the old one in every role that listed it: a new
root version, signed by the old root's threshold of root keys and the new root's, then each role
the key signed re-signed (and the snapshot and timestamp above it). Clients follow the root
chain from the root they pinned. The old key's file moves to KEYS/retired/.

      --keys KEYS                   the private keys: the root keys (a threshold of the old root
                                    and of the new) and the keys of the roles re-signed
      --key KEYID                   the key to replace (a prefix of its ID is enough)
      --role ROLE                   or: the key of ROLE, when it has exactly one

${OUTPUT_HELP}

Example:
  kernelseal publishers rotate-key trust-list --keys ~/.kernelseal-keys/trust-list --role timestamp`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { keys: { type: 'string' }, key: { type: 'string' }, role: { type: 'string' }, ...OUTPUT_OPTIONS });
    const dir = folderOperand(positionals, 'the list whose key to replace');
    if ((values.key === undefined) === (values.role === undefined)) throw new UsageError('give exactly one of --key KEYID and --role ROLE');
    const ring = await KeyRing.read(keysFlag(values.keys));
    const repository = await ListRepository.read(dir);
    const root = repository.root.signed;
    let keyId: string;
    if (values.role !== undefined) {
      const ids = root.roles[roleFlag(values.role, '--role')]!.keyIDs;
      if (ids.length !== 1) throw new UsageError(`${values.role} has ${ids.length} keys (${ids.join(', ')}): name one with --key`);
      keyId = ids[0]!;
    } else {
      const matches = Object.keys(root.keys).filter((id) => id.startsWith(values.key!));
      if (matches.length !== 1) throw new UsageError(`--key ${values.key}: ${matches.length === 0 ? 'no key of the root has this ID' : `names ${matches.length} keys`}`);
      keyId = matches[0]!;
    }
    const rotated = await repository.rotateKey(ring, keyId);
    const output = new Output('publishers rotate-key', values);
    output.add({ kind: 'list-changed', subject: dir, change: { action: 'key-rotated', replaced: keyId, key: rotated.key.id, file: rotated.key.file, roles: rotated.roles, signed: rotated.signed, ...(rotated.retired ? { retired: rotated.retired } : {}) } });
    return output.finish();
  },
};
