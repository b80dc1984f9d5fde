import { signModel } from './library/signing.js';
import { DEFAULT_SHARD_SIZE, MODEL_HASH_TYPES, type ModelHashType } from './library/verifying.js';
import { existsSync } from 'node:fs';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { ProgressBar } from './progress-bar.js';
import { MODEL_SIGNING_SIGN_FLAGS, checkMethod, splitMethod } from './model-signing-flags.js';
import { SIGNER_HELP, SIGNER_OPTIONS, signerFrom } from './signer-options.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';

export const signModelCommand: Command = {
  name: 'sign-model',
  help: `Usage: kernelseal sign-model <model-dir | model-file> [options]

Hashes a model and signs it the way model_signing 1.1 does (OMS v1.0): an in-toto statement
listing every file's digest, in a DSSE envelope, in a Sigstore bundle written atomically to
--signature. model_signing, its Go port and 'kernelseal verify-model' verify it. Keyless
signatures are logged in Rekor; key and certificate signatures are not (as the reference).

${SIGNER_HELP.replace('(ECDSA P-256 or P-384);', '(ECDSA P-256, P-384 or P-521;')
  .replace('the bundle carries a key hint (KERNELSEAL_KEY_PASSWORD', 'signs with the curve\'s hash; KERNELSEAL_KEY_PASSWORD')
  .replace('for an encrypted key)', 'for an encrypted key)')}

Model:
      --signature FILE              where to write the signature (default:
                                    <model-dir>/model.sig, or <model-file>.sig)
      --hash sha256|blake2b|blake3  the content hash (default sha256)
      --shards                      hash files in shards of 1 GB (${DEFAULT_SHARD_SIZE} bytes)
      --shard-size BYTES            ... of this many bytes
      --allow-symlinks              follow symlinks to files (default: refuse them)
      --ignore-paths PATH           leave out this path (from the model root), with what is
                                    below it; repeat for more; recorded in the signature
      --no-ignore-git-paths         sign .git, .gitattributes, .github, .gitignore too

${OUTPUT_HELP}

Examples:
  # in GitHub Actions (permissions: id-token: write):
  kernelseal sign-model ./llama
  kernelseal sign-model ./llama --key signing-key.pem --hash blake3 --shards
  kernelseal sign-model ./llama --key signing-key.pem --certificate signing-cert.pem \\
      --certificate-chain intermediate-ca.pem
  kernelseal verify-model ./llama --key signing-key.pub

model_signing's spellings work too: its method word first (sigstore, key, certificate; not
pkcs11-key, pkcs11-certificate or ml-dsa),
--private-key (= --key), --signing-certificate (= --certificate), and the underscore forms
(--private_key, --certificate_chain, --identity_token, --ignore_paths, --allow_symlinks);
--trust-config (a client trust config: its signing config, = --signing-config) and
--use-ambient-credentials (what kernelseal does unasked).

Exit status: 0 signed, 1 not signed, 2 usage error.`,

  async run(args) {
    const { values, positionals: given } = parseCommandLine(
      args,
      {
        ...SIGNER_OPTIONS,
        signature: { type: 'string' },
        hash: { type: 'string', default: 'sha256' },
        shards: { type: 'boolean', default: false },
        'shard-size': { type: 'string' },
        'allow-symlinks': { type: 'boolean', default: false },
        'ignore-paths': { type: 'string', multiple: true, default: [] },
        'no-ignore-git-paths': { type: 'boolean', default: false },
        // model_signing's switch for CI credentials, which kernelseal uses unasked.
        'use-ambient-credentials': { type: 'boolean', default: false },
        ...OUTPUT_OPTIONS,
      },
      MODEL_SIGNING_SIGN_FLAGS,
    );
    // model_signing's method word (`sign key MODEL`) may come first; it must fit the flags.
    const { method, positionals } = splitMethod(given);
    checkMethod(method, values, false);
    if (positionals.length !== 1) throw new UsageError('expected one model directory or file');
    if (!MODEL_HASH_TYPES.includes(values.hash as ModelHashType)) throw new UsageError(`--hash must be one of ${MODEL_HASH_TYPES.join(', ')}`);
    let shardSize = values.shards ? DEFAULT_SHARD_SIZE : undefined;
    if (values['shard-size'] !== undefined) {
      shardSize = Number(values['shard-size']);
      if (!/^[1-9][0-9]*$/.test(values['shard-size']) || !Number.isSafeInteger(shardSize)) throw new UsageError('--shard-size must be a positive whole number of bytes');
    }
    const model = positionals[0]!;
    if (!existsSync(model)) throw new UsageError(`${model}: no such model directory or file`);
    const signer = await signerFrom(values);
    const output = new Output(this.name, values);
    const bar = new ProgressBar(`hashing ${model}`, output);
    try {
      const signed = await signModel(model, {
        signer,
        hashType: values.hash as ModelHashType,
        shardSize,
        allowSymlinks: values['allow-symlinks'],
        ignorePaths: values['ignore-paths'],
        ignoreGitPaths: !values['no-ignore-git-paths'],
        signature: values.signature,
        onProgress: (progress) => bar.update(progress),
      }).finally(() => bar.clear());
      output.add({ kind: 'signed-model', subject: model, signature: signed.signaturePath, manifest: signed.manifest, bytes: signed.bytes });
    } catch (error) {
      output.add({ kind: 'not-signed', subject: model, reason: error instanceof Error ? error.message : String(error) });
    }
    return output.finish();
  },
};
