import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST } from './helpers/package.js';
import { KERNEL_METADATA, unsignedVariant } from './helpers/variant.js';

// verifyAndCopyVariant hands back a copy of exactly the bytes it verified. These tests make the
// copy's writes fail for real, in a child process: a file-size limit (RLIMIT_FSIZE, which makes
// write(2) write less than asked, then fail with EFBIG) and a full file system (ENOSPC).
const ks = (await import(DIST)) as typeof import('../dist/index.js');
const REPO = 'my-org/relu-kernel';
const sigstore = withMockSigstore();
const SHARED_OBJECT = '_relu_cuda_6a1b2c3.abi3.so'; // 256 KiB in the test variant

const sign = (dir: string) => ks.signVariant(dir, { signer: { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } });
async function signed() {
  const dir = unsignedVariant();
  await sign(dir);
  return dir;
}

/** A script that copies `dir` into `into` and prints the result (status, reason, path). */
function copyScript(): string {
  const script = join(tempDir(), 'copy.mjs');
  writeFileSync(
    script,
    `const ks = await import(${JSON.stringify(DIST)});
const [dir, into, root] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
const trustedRoot = ks.parseTrustedRoot(JSON.parse(readFileSync(root, 'utf8')), 'mock');
const result = await ks.verifyAndCopyVariant(dir, { policy: ks.githubWorkflowPolicy({ repository: ${JSON.stringify(REPO)} }), trustedRoot, into });
console.log(JSON.stringify({ status: result.status, reason: result.reason, path: result.path }));
`,
  );
  return script;
}

/** Runs the copy script as `command` (a wrapper such as prlimit, then node) and parses its line. */
function runCopy(command: string[], dir: string, into: string) {
  const child = spawnSync(command[0]!, [...command.slice(1), process.execPath, copyScript(), dir, into, sigstore.trustedRootPath], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout) as { status: string; reason?: string; path: string };
}

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
const isRoot = process.getuid?.() === 0;

describe('verifyAndCopyVariant when the copy cannot be written', () => {
  it.skipIf(!hasPrlimit)('a file-size limit that cuts a file short: copy-failed, naming the file, and no copy left', async () => {
    const dir = await signed();
    const into = tempDir();
    // 100 000 bytes: the shared object's one read of 256 KiB is written short, then EFBIG.
    const result = runCopy(['prlimit', '--fsize=100000', '--'], dir, into);
    expect(result).toMatchObject({ status: 'copy-failed', path: dir });
    expect(result.reason).toMatch(new RegExp(`^cannot write ${into}/kernelseal-verified-\\w+/${SHARED_OBJECT.replaceAll('.', '\\.')}: File too large$`));
    expect(readdirSync(into)).toEqual([]);
    // The same copy without the limit verifies: the limit alone made it fail.
    expect(runCopy(['env'], dir, into)).toMatchObject({ status: 'verified' });
  });

  it.skipIf(!hasPrlimit)('a limit that leaves room for the files but not for metadata.json or its bundle: copy-failed too', async () => {
    // Only small files, so that metadata.json and its bundle are the largest the copy writes.
    const dir = unsignedVariant();
    rmSync(join(dir, SHARED_OBJECT));
    rmSync(join(dir, 'kernels'), { recursive: true });
    await sign(dir);
    const into = tempDir();
    const sizes = (names: string[]) => names.map((name) => statSync(join(dir, name)).size);
    const [metadata, bundle] = sizes(['metadata.json', 'metadata.json.sigstore']);
    expect(Math.max(...sizes(['__init__.py', '_ops.py', 'layers.py', 'relu/__init__.py']))).toBeLessThan(metadata! - 1);
    for (const [limit, file] of [[metadata! - 1, 'metadata.json'], [bundle! - 1, 'metadata.json.sigstore']] as const) {
      const result = runCopy(['prlimit', `--fsize=${limit}`, '--'], dir, into);
      expect(result, `limit ${limit}`).toMatchObject({ status: 'copy-failed', reason: expect.stringMatching(new RegExp(`/${file.replaceAll('.', '\\.')}: File too large$`)) });
      expect(readdirSync(into)).toEqual([]);
    }
    expect(runCopy(['prlimit', `--fsize=${bundle}`, '--'], dir, into)).toMatchObject({ status: 'verified' });
  });

  it.skipIf(!isRoot)('a full file system: copy-failed with "No space left on device", and nothing left on it', async () => {
    const dir = await signed();
    // A private mount namespace: the 128 KiB tmpfs exists only for the child, and goes with it.
    const into = tempDir();
    const result = spawnSync(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=128k tmpfs "$1" && "$2" "$3" "$4" "$1" "$5" && ls -A "$1"`, 'sh', into, process.execPath, copyScript(), dir, sigstore.trustedRootPath],
      { encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    const [line, ...left] = result.stdout.trim().split('\n');
    const parsed = JSON.parse(line!) as { status: string; reason: string };
    expect(parsed).toMatchObject({ status: 'copy-failed', reason: expect.stringMatching(new RegExp(`${SHARED_OBJECT.replaceAll('.', '\\.')}: No space left on device$`)) });
    expect(left).toEqual([]); // ls -A of the full tmpfs after the failure: empty
  });

  it('an `into` that cannot be written: copy-failed naming it', async () => {
    const dir = await signed();
    const into = join(tempDir(), 'file');
    writeFileSync(into, '');
    const result = await ks.verifyAndCopyVariant(dir, { policy: ks.githubWorkflowPolicy({ repository: REPO }), trustedRoot: sigstore.parsedRoot, into });
    expect(result).toMatchObject({ status: 'copy-failed', path: dir, source: dir, reason: `cannot create a folder in ${into}: EEXIST: file already exists, mkdir '${into}'` });
  });
});

describe('verifyAndCopyVariant keeps what verifyVariant reports beside "verified"', () => {
  it('a source mismatch the caller chose to be warned of (sourceMismatch: "warn"), as verifyVariant reports it', async () => {
    // metadata.json says another commit than the one the signing certificate names.
    const dir = unsignedVariant();
    const stated = '0123456789abcdef0123456789abcdef01234567';
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...KERNEL_METADATA, provenance: { kernel: { sha: stated, dirty: false } } }, null, 2));
    await sign(dir);
    const options = { policy: ks.githubWorkflowPolicy({ repository: REPO }), trustedRoot: sigstore.parsedRoot };
    expect(await ks.verifyAndCopyVariant(dir, { ...options, into: tempDir() })).toMatchObject({ status: 'source-mismatch', path: dir });
    const warned = { ...options, sourceMismatch: 'warn' as const };
    const inPlace = await ks.verifyVariant(dir, warned);
    expect(inPlace).toMatchObject({ status: 'verified', sourceMismatch: expect.stringContaining(`metadata.json says the kernel was built from commit ${stated}`) });
    const copied = await ks.verifyAndCopyVariant(dir, { ...warned, into: tempDir() });
    expect(copied).toMatchObject({ status: 'verified', source: dir, sourceMismatch: (inPlace as { sourceMismatch: string }).sourceMismatch });
  });
});
