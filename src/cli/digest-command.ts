import { relative } from 'node:path';
import { digestBackend } from './library/backend.js';
import { DIGEST_ALGORITHMS, METADATA_ALGORITHMS, isDigestAlgorithm, type DigestAlgorithm, readMetadataDigest, hashVariant, writeDigestToMetadata } from './library/hashing.js';
import { plural } from './format.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { ProgressBar } from './progress-bar.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';
import { expandKernel } from './variants.js';

export const digestCommand: Command = {
  name: 'digest',
  help: `Usage: kernelseal digest <variant-dir | kernel-dir> [--algorithm sha256|sha512|blake3|blake2b] [--json] [--write | --check]

Hashes every file of a kernel variant directory the way kernels metadata.json expects
(a kernel directory, one with build/, stands for each of its variants, hashed apart):
regular files and symlinked files (under the link's path), hidden files included;
metadata.json and metadata.json.sigstore at the top level, __pycache__ directories and
*.pyc files are left out. Each hash is the padded base64 of the raw digest.

Options:
  -a, --algorithm NAME  sha256 (default), sha512, blake3 or blake2b (BLAKE2b-512; these
                        two are never written into metadata.json)
      --write           store the digest into <variant-dir>/metadata.json, keeping every
                        other field (pretty-printed, 2 spaces, written atomically)
      --check           compare the files with the digest in <variant-dir>/metadata.json
                        and list every difference (no signature check: that is
                        'kernelseal verify')
  -h, --help            show this help

${OUTPUT_HELP}
                        (each result's "digest" is exactly the metadata.json digest object)

Environment:
  KERNELSEAL_DIGEST_BACKEND=native|pure   force a digest backend (default: native when
                                          the addon loads, pure TypeScript otherwise)

Examples:
  kernelseal digest build/torch-cpu
  kernelseal digest build/torch-cpu --json | jq '.results[0].digest' > digest.json
  kernelseal digest my-kernel/               # every build/<variant>, each on its own
  kernelseal digest build/torch-cpu --algorithm sha512 --write
  kernelseal digest build/torch-cpu --check

Exit status: 0 hashed (and matching, with --check), 1 a variant could not be hashed or
written, or does not match, 2 usage error or a directory that is not there.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      algorithm: { type: 'string', short: 'a' },
      write: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      ...OUTPUT_OPTIONS,
    });
    if (positionals.length !== 1) throw new UsageError('expected exactly one variant or kernel directory');
    const dir = positionals[0]!;
    if (values.check && (values.write || values.algorithm)) throw new UsageError('--check takes the algorithm from metadata.json and writes nothing');
    const algorithm = values.algorithm ?? 'sha256';
    if (!isDigestAlgorithm(algorithm)) {
      throw new UsageError(`--algorithm must be one of ${DIGEST_ALGORITHMS.join(', ')} (got ${JSON.stringify(algorithm)})`);
    }
    if (values.write && !METADATA_ALGORITHMS.includes(algorithm)) {
      throw new UsageError(`--write cannot store a ${algorithm} digest: kernels metadata.json accepts only sha256 and sha512`);
    }
    // A kernel directory is each of its variants: one digest over all of build/ is no variant's.
    const targets = expandKernel(dir);
    const refused = targets.filter((target) => 'refused' in target);
    if (refused.length > 0) throw new UsageError(refused.map((target) => `${target.path}: ${(target as { refused: string }).refused}`).join('\n'));
    const several = targets.length > 1 || targets[0]!.path !== dir;
    const output = new Output(this.name, values);
    for (const { path } of targets) {
      const prefix = several ? relative(dir, path) : undefined;
      if (values.check) {
        await check(path, output);
        continue;
      }
      const { digest, bytes, seconds, backend } = await hashWithProgress(algorithm, path, output);
      output.add({ kind: 'digest', subject: path, digest, bytes, seconds, backend, prefix });
      if (values.write) {
        const written = await writeDigestToMetadata(path, digest);
        output.note(`wrote the ${algorithm} digest of ${plural(digest.files.size, 'file')} to ${written}`);
      }
    }
    return output.finish();
  },
};

/** Hashes the variant with a progress bar on a terminal; returns the digest and the totals. */
async function hashWithProgress(algorithm: DigestAlgorithm, dir: string, output: Output) {
  const backend = digestBackend();
  const bar = new ProgressBar(`hashing ${dir}`, output);
  const started = performance.now();
  let bytes = 0;
  const digest = await hashVariant(algorithm, dir, {
    backend,
    onProgress: (progress) => {
      bytes = progress.bytesDone;
      bar.update(progress);
    },
  }).finally(() => bar.clear());
  return { digest, bytes, seconds: (performance.now() - started) / 1000, backend: backend.name };
}

/** --check: re-hash with the algorithm of metadata.json's digest and list every violation. */
async function check(dir: string, output: Output): Promise<void> {
  const expected = await readMetadataDigest(dir);
  const { digest: actual, bytes } = await hashWithProgress(expected.algorithm, dir, output);
  output.add({ kind: 'digest-check', subject: dir, algorithm: expected.algorithm, files: actual.files.size, bytes, violations: expected.violations(actual) });
}
