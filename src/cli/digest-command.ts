import { DIGEST_ALGORITHMS, METADATA_ALGORITHMS, isDigestAlgorithm, type DigestAlgorithm } from '../digest/algorithm.js';
import { digestBackend } from '../hashing/select-backend.js';
import { stringifyOrdered } from '../json/ordered-json.js';
import { readMetadataDigest } from '../kernels/read-digest.js';
import { writeDigestToMetadata } from '../kernels/write-digest.js';
import { formatBytes, formatRate, plural } from './format.js';
import { ProgressBar } from './progress-bar.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandLine, type Command } from './usage.js';
import { hashVariant } from '../hashing/hash-variant.js';

export const digestCommand: Command = {
  name: 'digest',
  help: `Usage: kernelseal digest <variant-dir> [--algorithm sha256|sha512|blake3|blake2b] [--json] [--write | --check]

Hashes every file of a kernel variant directory the way kernels metadata.json expects:
regular files and symlinked files (under the link's path), hidden files included;
metadata.json and metadata.json.sigstore at the top level, __pycache__ directories and
*.pyc files are left out. Each hash is the padded base64 of the raw digest.

Options:
  -a, --algorithm NAME  sha256 (default), sha512, blake3 or blake2b (BLAKE2b-512; these
                        two are never written into metadata.json)
      --json            print exactly the digest object: {"algorithm":...,"files":{...}}
      --write           store the digest into <variant-dir>/metadata.json, keeping every
                        other field (pretty-printed, 2 spaces, written atomically)
      --check           compare the files with the digest in <variant-dir>/metadata.json
                        and list every difference (no signature check: that is
                        'kernelseal verify')
  -h, --help            show this help

Environment:
  KERNELSEAL_DIGEST_BACKEND=native|pure   force a digest backend (default: native when
                                          the addon loads, pure TypeScript otherwise)

Examples:
  kernelseal digest build/torch-cpu
  kernelseal digest build/torch-cpu --json > digest.json
  kernelseal digest build/torch-cpu --algorithm sha512 --write
  kernelseal digest build/torch-cpu --check

Exit status: 0 hashed (and matching, with --check), 1 the variant could not be hashed or
written, or does not match, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      algorithm: { type: 'string', short: 'a' },
      json: { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
    });
    if (positionals.length !== 1) throw new UsageError('expected exactly one variant directory');
    const dir = positionals[0]!;
    if (values.check) {
      if (values.write || values.algorithm) throw new UsageError('--check takes the algorithm from metadata.json and writes nothing');
      return check(dir, values.json);
    }
    const algorithm = values.algorithm ?? 'sha256';
    if (!isDigestAlgorithm(algorithm)) {
      throw new UsageError(`--algorithm must be one of ${DIGEST_ALGORITHMS.join(', ')} (got ${JSON.stringify(algorithm)})`);
    }
    if (values.write && !METADATA_ALGORITHMS.includes(algorithm)) {
      throw new UsageError(`--write cannot store a ${algorithm} digest: kernels metadata.json accepts only sha256 and sha512`);
    }

    const { digest, bytes, seconds, backend } = await hashWithProgress(algorithm, dir);
    if (values.json) {
      process.stdout.write(`${stringifyOrdered(digest.toOrderedJSON(), 0)}\n`);
    } else {
      for (const [path, hash] of digest.files) process.stdout.write(`${hash}  ${path}\n`);
      process.stdout.write(
        `${algorithm}: ${plural(digest.files.size, 'file')}, ${formatBytes(bytes)} in ${seconds.toFixed(2)} s ` +
          `(${formatRate(bytes, seconds)}, ${backend} backend)\n`,
      );
    }
    if (values.write) {
      const path = await writeDigestToMetadata(dir, digest);
      process.stderr.write(`wrote the ${algorithm} digest of ${plural(digest.files.size, 'file')} to ${path}\n`);
    }
    return EXIT_OK;
  },
};

/** Hashes the variant with a progress bar on a terminal; returns the digest and the totals. */
async function hashWithProgress(algorithm: DigestAlgorithm, dir: string) {
  const backend = digestBackend();
  const bar = new ProgressBar(`hashing ${dir}`);
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
async function check(dir: string, json: boolean): Promise<number> {
  const expected = await readMetadataDigest(dir);
  const { digest: actual } = await hashWithProgress(expected.algorithm, dir);
  const violations = expected.violations(actual);
  if (json) {
    const result = { variant: dir, ok: violations.length === 0, violations: violations.map((v) => ({ ...v, message: String(v) })) };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else if (violations.length === 0) {
    process.stdout.write(
      `✅ ${dir}: all ${plural(actual.files.size, 'file')} match the ${expected.algorithm} digest in metadata.json ` +
        `(the signature was not checked: use 'kernelseal verify')\n`,
    );
  } else {
    process.stdout.write(`❌ ${dir}: kernel integrity check failed\n${violations.map(String).join('\n')}\n`);
  }
  return violations.length === 0 ? EXIT_OK : EXIT_FAILURE;
}
