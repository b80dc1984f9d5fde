import { existsSync, statSync } from 'node:fs';
import { defaultSignaturePath, verifyModel } from './library/verifying.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { ProgressBar } from './progress-bar.js';
import { TRUST_ALIASES, TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustedRootsFrom } from './trust-options.js';
import { MODEL_SIGNING_VERIFY_FLAGS, checkMethod, splitMethod } from './model-signing-flags.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';

export const verifyModelCommand: Command = {
  name: 'verify-model',
  help: `Usage: kernelseal verify-model <model-dir | model-file> [--signature FILE] [options]

Verifies an OpenSSF Model Signing signature (model.sig, as model_signing v0.2 to v1.1 and
the OMS v1.0 specification write it): checks the signature and that its signer is trusted,
then re-hashes the model the way the signature says (files or shards; sha256, blake2b or
blake3; symlinks allowed or not) and lists every file that is missing, unknown or changed.
Paths the signature records as ignored, .git, .gitattributes, .github and .gitignore at the
top and the signature file itself are left out.

${TRUST_HELP.replace('Who is trusted (one of):', `Who is trusted (one of):
      --identity ID, --issuer URL   keyless (Sigstore): the signer's identity and OIDC
                                    issuer, exactly (the same as --certificate-identity and
                                    --certificate-oidc-issuer)`).replace(
    /--certificate-chain PEM {7}the CA chain[^\n]*\n[^\n]*\n[^\n]*/,
    `--certificate-chain PEM       the CA certificate(s) of your own PKI (model_signing's
                                    certificate method): the signing certificate must chain
                                    to one of them and be valid now`,
  )}

Model:
      --signature FILE              the signature (default: <model-dir>/model.sig, or
                                    <model-file>.sig; else ./model.sig, where model_signing
                                    writes it by default)
      --ignore-paths PATH           leave out this path (from the model root), with what is
                                    below it; repeat for more
      --ignore-unsigned-files       check only the files the signature lists
      --no-ignore-git-paths         hash .git, .gitattributes, .github, .gitignore too

${OUTPUT_HELP}

model_signing's spellings work too: its method word first (sigstore, key, certificate; not
ml-dsa or pkcs11), --identity-provider (= --issuer), --public-key (= --key), --trust-config
(= --trusted-root), and the underscore forms (--identity_provider, --certificate_chain,
--ignore_paths, ...).

Examples:
  kernelseal verify-model key ./llama --signature model.sig --public-key signing-key.pub
  kernelseal verify-model ./llama --identity someone@example.com \\
      --issuer https://accounts.google.com
  kernelseal verify-model ./llama --signature llama.sig --key signing-key.pub
  kernelseal verify-model ./llama --certificate-chain ca-cert.pem --ignore-paths README.md
  kernelseal verify-model model.onnx --key signing-key.pub     # signature: model.onnx.sig

Exit status: 0 verified, 1 not verified (or no signature found), 2 usage error or a model
or file named on the command line that cannot be read.`,

  async run(args) {
    const { values, positionals: given } = parseCommandLine(
      args,
      {
        ...TRUST_OPTIONS,
        signature: { type: 'string' },
        'ignore-paths': { type: 'string', multiple: true, default: [] },
        'ignore-unsigned-files': { type: 'boolean', default: false },
        'no-ignore-git-paths': { type: 'boolean', default: false },
        ...OUTPUT_OPTIONS,
      },
      { ...TRUST_ALIASES, ...MODEL_SIGNING_VERIFY_FLAGS },
    );
    // model_signing's method word (`verify key MODEL`) may come first; it must fit the flags.
    const { method, positionals } = splitMethod(given);
    checkMethod(method, values, true);
    if (positionals.length !== 1) throw new UsageError('expected one model directory or file');
    const model = positionals[0]!;
    if (!existsSync(model)) throw new UsageError(`${model}: no such model directory or file`);
    if (values.signature !== undefined && !existsSync(values.signature)) throw new UsageError(`--signature ${values.signature}: no such file`);
    const anchor = await trustAnchorFrom(values);
    const trustedRoot = 'policy' in anchor ? await trustedRootsFrom(values) : undefined;
    const output = new Output(this.name, values);
    const bar = new ProgressBar(`hashing ${model}`, output);
    const result = await verifyModel(model, {
      ...anchor,
      trustedRoot,
      signature: values.signature ?? modelSigningDefault(model),
      ignorePaths: values['ignore-paths'],
      ignoreUnsignedFiles: values['ignore-unsigned-files'],
      ignoreGitPaths: !values['no-ignore-git-paths'],
      onProgress: (progress) => bar.update(progress),
    }).finally(() => bar.clear());
    output.add({ kind: 'model', result });
    return output.finish();
  },
};

/**
 * model_signing writes `model.sig` in the current directory unless told otherwise: used when the
 * model has no signature of its own beside it (<model-dir>/model.sig, <model-file>.sig). It is
 * held to the same checks: a signature of another model fails on its files.
 */
function modelSigningDefault(model: string): string | undefined {
  const own = defaultSignaturePath(model, statSync(model).isDirectory());
  return !existsSync(own) && existsSync('model.sig') ? 'model.sig' : undefined;
}
