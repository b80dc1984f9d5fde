import { signedBy } from '../sign/sign-bytes.js';
import { signVariant } from '../kernels/sign-variant.js';
import { plural } from './format.js';
import { ProgressBar } from './progress-bar.js';
import { describeSigner } from './render-result.js';
import { SIGNER_HELP, SIGNER_OPTIONS, signerFrom } from './signer-options.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandLine, type Command } from './usage.js';
import { expandKernel } from './variants.js';

export const signCommand: Command = {
  name: 'sign',
  help: `Usage: kernelseal sign <variant-dir | kernel-dir>... [options]

For each variant, what kernels-community does with cosign: hashes every file, writes the
digest into metadata.json, signs the raw bytes of that file and writes the Sigstore bundle
(v0.3, a message signature logged as a hashedrekord) to metadata.json.sigstore. Both files are
replaced atomically and only once the signature exists: a failure leaves the variant as it was.
A kernel directory (one with build/) stands for all its variants.

${SIGNER_HELP}

Options:
  -a, --algorithm sha256|sha512     the digest written into metadata.json (default sha256)
      --json                        print an array of results

Examples:
  # in GitHub Actions (permissions: id-token: write), every variant of a build:
  kernelseal sign my-kernel/
  kernelseal sign build/torch-cpu --identity-token "$(cat token.jwt)"
  kernelseal sign build/torch-cpu --key signing-key.pem
  kernelseal verify build/torch-cpu --key signing-key.pub

Exit status: 0 every variant signed, 1 any failed, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      ...SIGNER_OPTIONS,
      algorithm: { type: 'string', short: 'a', default: 'sha256' },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length === 0) throw new UsageError('expected at least one variant directory');
    const algorithm = values.algorithm;
    if (algorithm !== 'sha256' && algorithm !== 'sha512') throw new UsageError('--algorithm must be sha256 or sha512 (metadata.json accepts no other)');
    const targets = positionals.flatMap(expandKernel);
    const refused = targets.filter((target) => 'refused' in target);
    if (refused.length > 0) throw new UsageError(refused.map((target) => `${target.path}: ${(target as { refused: string }).refused}`).join('\n'));
    const variants = targets.map((target) => target.path);
    const signer = await signerFrom(values);
    const results: Array<Record<string, unknown>> = [];
    for (const path of variants) {
      const bar = new ProgressBar(`hashing ${path}`);
      try {
        const signed = await signVariant(path, { signer, algorithm, onProgress: (p) => bar.update(p) }).finally(() => bar.clear());
        const who = signedBy(signed.bundle, signer);
        results.push({ path, ok: true, metadata: signed.metadataPath, bundle: signed.bundlePath, files: signed.digest.files.size, signer: who });
        if (!values.json) {
          process.stdout.write(
            `✅ ${path}: signed the ${algorithm} digest of ${plural(signed.digest.files.size, 'file')}\n` +
              `   ${describeSigner(who)}\n   bundle: ${signed.bundlePath}\n`,
          );
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        results.push({ path, ok: false, reason });
        if (!values.json) process.stdout.write(`❌ ${path}: not signed:\n${reason}\n`);
      }
    }
    if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return results.every((result) => result.ok) ? EXIT_OK : EXIT_FAILURE;
  },
};
