import { readFile, stat } from 'node:fs/promises';
import { signBytes, signedBy, serializeBundle } from './library/signing.js';
import { writeFileAtomic } from './library/verifying.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { SIGNER_HELP, SIGNER_OPTIONS, signerFrom } from './signer-options.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';

/** Artifacts are signed from memory; beyond this, sign a manifest of the files instead. */
const MAX_BLOB_BYTES = 2 * 1024 * 1024 * 1024;

export const signBlobCommand: Command = {
  name: 'sign-blob',
  help: `Usage: kernelseal sign-blob <file> [--bundle OUT] [options]

Signs the bytes of a file and writes a v0.3 Sigstore bundle (a message signature, as
'cosign sign-blob --bundle' writes), checked by 'kernelseal verify-bundle'. The bundle is
written atomically, and only once the signature exists.

  -b, --bundle OUT                  where to write the bundle (default <file>.sigstore.json)

${SIGNER_HELP}

${OUTPUT_HELP}

Examples:
  kernelseal sign-blob dist/relu-0.1.0-py3-none-any.whl
  kernelseal sign-blob model.onnx --bundle model.onnx.sigstore.json --key signing-key.pem
  kernelseal verify-bundle --bundle model.onnx.sigstore.json --key signing-key.pub model.onnx

Exit status: 0 signed, 1 signing failed, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      ...SIGNER_OPTIONS,
      bundle: { type: 'string', short: 'b' },
      ...OUTPUT_OPTIONS,
    });
    if (positionals.length !== 1) throw new UsageError('expected exactly one file to sign');
    const file = positionals[0]!;
    const out = values.bundle ?? `${file}.sigstore.json`;
    const info = await stat(file).catch((error: Error) => {
      throw new UsageError(`cannot read ${file}: ${error.message}`);
    });
    if (!info.isFile()) throw new UsageError(`${file} is not a regular file`);
    if (info.size > MAX_BLOB_BYTES) throw new UsageError(`${file} is larger than 2 GiB: sign a manifest of it instead (sign-model)`);
    const signer = await signerFrom(values);
    const output = new Output(this.name, values);
    try {
      const bundle = await signBytes(await readFile(file), signer);
      await writeFileAtomic(out, serializeBundle(bundle));
      output.add({ kind: 'signed-blob', subject: file, signer: signedBy(bundle, signer), bundle: out });
    } catch (error) {
      output.add({ kind: 'not-signed', subject: file, reason: error instanceof Error ? error.message : String(error) });
    }
    return output.finish();
  },
};
