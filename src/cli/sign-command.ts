import { signedBy, signVariant, ProvenanceEnvironmentError, githubActionsProvenance } from './library/signing.js';
import { refuseModelSigningMethod } from './model-signing-flags.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { ProgressBar } from './progress-bar.js';
import { SIGNER_HELP, SIGNER_OPTIONS, signerFrom } from './signer-options.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';
import { expandKernel } from './variants.js';

export const signCommand: Command = {
  name: 'sign',
  help: `Usage: kernelseal sign <variant-dir | kernel-dir>... [options]

For each variant, what kernels-community does with cosign: hashes every file, writes the
digest into metadata.json, signs the raw bytes of that file and writes the Sigstore bundle
(v0.3, a message signature logged as a hashedrekord) to metadata.json.sigstore. Both files are
replaced atomically and only once the signature exists: a failure leaves the variant as it was.
A kernel directory (one with build/) stands for all its variants. metadata.json is checked
first exactly as 'kernelseal verify' will read it: every problem is listed, nothing is signed.

${SIGNER_HELP}

Options:
  -a, --algorithm sha256|sha512     the digest written into metadata.json (default sha256)
      --provenance                  in GitHub Actions, also sign SLSA provenance v1 of the
                                    build (repository, commit, workflow, runner, run) whose
                                    subject is metadata.json, written beside each variant:
                                    build/<variant>.provenance.sigstore.json (keyless)

${OUTPUT_HELP}

Examples:
  # in GitHub Actions (permissions: id-token: write), every variant of a build:
  kernelseal sign my-kernel/
  kernelseal sign build/torch-cpu --identity-token "$(cat token.jwt)"
  kernelseal sign build/torch-cpu --key signing-key.pem
  kernelseal verify build/torch-cpu --key signing-key.pub

Exit status: 0 every variant signed, 1 any failed, 2 usage error.`,

  async run(args) {
    // `sign key MODEL --private_key K` is model_signing's command line, not a kernel's.
    refuseModelSigningMethod(args, 'sign');
    const { values, positionals } = parseCommandLine(args, {
      ...SIGNER_OPTIONS,
      algorithm: { type: 'string', short: 'a', default: 'sha256' },
      provenance: { type: 'boolean', default: false },
      ...OUTPUT_OPTIONS,
    });
    if (positionals.length === 0) throw new UsageError('expected at least one variant directory');
    const algorithm = values.algorithm;
    if (algorithm !== 'sha256' && algorithm !== 'sha512') throw new UsageError('--algorithm must be sha256 or sha512 (metadata.json accepts no other)');
    const targets = positionals.flatMap(expandKernel);
    const refused = targets.filter((target) => 'refused' in target);
    if (refused.length > 0) throw new UsageError(refused.map((target) => `${target.path}: ${(target as { refused: string }).refused}`).join('\n'));
    const variants = targets.map((target) => target.path);
    // Provenance is read from the GitHub Actions job before anything is hashed or signed.
    const predicate = values.provenance ? provenanceOfThisJob() : undefined;
    const signer = await signerFrom(values);
    if (predicate && signer.method !== 'keyless') throw new UsageError('--provenance is signed keylessly, by the identity of the run that built the variants: drop --key');
    const output = new Output(this.name, values);
    for (const path of variants) {
      const bar = new ProgressBar(`hashing ${path}`, output);
      try {
        const signed = await signVariant(path, { signer, algorithm, ...(predicate ? { provenance: { predicate } } : {}), onProgress: (p) => bar.update(p) }).finally(() => bar.clear());
        const who = signedBy(signed.bundle, signer);
        output.add({ kind: 'signed-variant', subject: path, algorithm, files: signed.digest.files.size, signer: who, metadata: signed.metadataPath, bundle: signed.bundlePath, provenance: signed.provenance?.path });
      } catch (error) {
        output.add({ kind: 'not-signed', subject: path, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return output.finish();
  },
};

/** The build provenance of this GitHub Actions job; outside one, a usage error naming what is missing. */
function provenanceOfThisJob(): Record<string, unknown> {
  try {
    return githubActionsProvenance(process.env);
  } catch (error) {
    if (error instanceof ProvenanceEnvironmentError) throw new UsageError(`--provenance: ${error.message}`);
    throw error;
  }
}
