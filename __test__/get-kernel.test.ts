import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli, testdata } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
// Receipts are keyed with a file outside the cache (src/kernels/hub/receipt-key.ts): one per test file, not the user's.
process.env.KERNELSEAL_RECEIPT_KEY_FILE = join(tempDir('kernelseal-state-'), 'receipt.key');
const REPO = 'kernels-test/relu';
const CU128 = 'torch210-cxx11-cu128-x86_64-linux';
const CU126 = 'torch210-cxx11-cu126-x86_64-linux';
const UNSIGNED = 'torch29-cxx11-cpu-x86_64-linux';
const TAMPERED = 'torch210-cxx11-cu130-x86_64-linux';

const sigstore = withMockSigstore();
let repoDir: string;
const policy = () => ks.githubWorkflowPolicy({ repository: REPO });
const hubs: MockHub[] = [];

/** A Hub serving REPO (v1) with signed, unsigned and tampered variants, and the given faults. */
async function hub(faults: Parameters<typeof startMockHub>[1] = {}) {
  const h = await startMockHub([{ repoId: REPO, refs: { v1: repoDir, main: repoDir } }], faults);
  hubs.push(h);
  return h;
}

beforeAll(async () => {
  repoDir = tempDir('kernelseal-hub-repo-');
  const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
  for (const name of [CU128, CU126, UNSIGNED, TAMPERED]) {
    const dir = join(repoDir, 'build', name);
    cpSync(unsignedVariant(), dir, { recursive: true });
    if (name !== UNSIGNED) await ks.signVariant(dir, { signer });
  }
  writeFileSync(join(repoDir, 'build', TAMPERED, '_ops.py'), 'import os  # changed after signing\n');
  mkdirSync(join(repoDir, 'build', CU128, '__pycache__'));
  writeFileSync(join(repoDir, 'build', CU128, '__pycache__', 'layers.cpython-312.pyc'), 'stale bytecode');
  writeFileSync(join(repoDir, 'README.md'), '# relu\n');
}, 120_000);
afterAll(async () => {
  await Promise.all(hubs.map((h) => h.close()));
});

/** Resolves once `path` holds at least `size` bytes: polls, as the writer gives no signal. */
async function untilSize(path: string, size: number): Promise<void> {
  while ((existsSync(path) ? statSync(path).size : 0) < size) await new Promise((resolve) => setTimeout(resolve, 1));
}

const fetchOptions = (h: MockHub, extra: Record<string, unknown> = {}) => ({ endpoint: h.url, cacheDir: tempDir('kernelseal-cache-'), policy: policy(), trustedRoot: sigstore.parsedRoot, onWarning: () => {}, ...extra });

describe('getKernel', () => {
  it('fetches and verifies a variant into the Hugging Face cache layout, without .pyc', async () => {
    const h = await hub();
    const options = fetchOptions(h);
    const kernel = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128 });
    const commit = h.commitOf(REPO, 'v1');
    expect(kernel).toMatchObject({ repoId: REPO, revision: 'v1', commit, variant: CU128, verified: true, fromReceipt: false });
    expect(kernel.signer?.identity).toBe(`https://github.com/${REPO}/.github/workflows/build.yaml@refs/heads/main`);
    const repo = join(options.cacheDir, 'kernels--kernels-test--relu');
    expect(kernel.path).toBe(join(repo, 'snapshots', commit, 'build', CU128));
    expect(readFileSync(join(repo, 'refs', 'v1'), 'utf8')).toBe(commit);
    expect(lstatSync(join(kernel.path, '_ops.py')).isSymbolicLink()).toBe(true);
    expect(resolve(kernel.path, readlinkSync(join(kernel.path, '_ops.py')))).toMatch(new RegExp(`^${repo}/blobs/[0-9a-f]{40}$`));
    expect(existsSync(join(kernel.path, '__pycache__'))).toBe(false);
    expect(readdirSync(join(repo, 'snapshots', commit, 'build'))).toEqual([CU128]); // only the variant asked for
    expect(h.requests.filter((r) => r.path.includes('__pycache__'))).toEqual([]);
  });

  it('picks the newest variant that fits a selector', async () => {
    const h = await hub();
    const kernel = await ks.getKernel(REPO, { ...fetchOptions(h), version: 1, selector: { backend: 'cuda', backendVersion: '12.9', os: 'linux', arch: 'x86_64' } });
    expect(kernel.variant).toBe(CU128);
    await expect(ks.getKernel(REPO, { ...fetchOptions(h), version: 1, selector: { backend: 'rocm' } })).rejects.toThrow(/no variant fits; available: torch210-/);
  });

  it('refuses an unsigned variant, and takes it only when the caller opts in, loudly', async () => {
    const h = await hub();
    // A state of its own: where a signed variant of REPO was verified, an unsigned one is a signer
    // change (__test__/signer-memory.test.ts).
    const stateDir = tempDir('kernelseal-state-');
    const error = await ks.getKernel(REPO, { ...fetchOptions(h), version: 1, variant: UNSIGNED, stateDir }).catch((e) => e);
    expect(error).toBeInstanceOf(ks.KernelRefusedError);
    expect(error.result).toMatchObject({ status: 'signature-missing' });
    const warnings: string[] = [];
    const kernel = await ks.getKernel(REPO, { ...fetchOptions(h), version: 1, variant: UNSIGNED, stateDir, allowUnsigned: true, onWarning: (w: string) => warnings.push(w) });
    expect(kernel.verified).toBe(false);
    expect(warnings).toEqual([expect.stringContaining('is NOT SIGNED: loading it anyway because allowUnsigned is set')]);
  });

  it('never hands back a tampered variant, even with allowUnsigned', async () => {
    const h = await hub();
    const error = await ks.getKernel(REPO, { ...fetchOptions(h), version: 1, variant: TAMPERED, allowUnsigned: true }).catch((e) => e);
    expect(error).toBeInstanceOf(ks.KernelRefusedError);
    expect(error.result.status).toBe('digest-mismatch');
    expect(error.result.violations.map(String)).toEqual([expect.stringMatching(/^File hash mismatch for _ops\.py/)]);
  });

  it('refuses a variant signed by someone the policy does not trust', async () => {
    const h = await hub();
    const error = await ks.getKernel(REPO, { ...fetchOptions(h), policy: ks.kernelsCommunityPolicy, version: 1, variant: CU128 }).catch((e) => e);
    expect(error.result).toMatchObject({ status: 'signature-invalid' });
  });

  it('resumes a download the server dropped mid-file', async () => {
    const so = `build/${CU128}/_relu_cuda_6a1b2c3.abi3.so`;
    const cacheDir = tempDir('kernelseal-cache-');
    // The partial file the cache keeps (cache.ts names LFS blobs by their SHA-256).
    const partial = join(cacheDir, 'kernels--kernels-test--relu', 'blobs', `${createHash('sha256').update(readFileSync(join(repoDir, so))).digest('hex')}.incomplete`);
    const h = await hub({ drop: { path: so, bytes: 100_000, times: 2, delivered: (total) => untilSize(partial, total) } });
    const kernel = await ks.getKernel(REPO, { ...fetchOptions(h, { cacheDir }), version: 1, variant: CU128 });
    expect(kernel.verified).toBe(true);
    const ranges = h.requests.filter((r) => r.path.endsWith(so.split('/').pop()!)).map((r) => r.range);
    // Two dropped connections, then a request that resumes where the partial file ends.
    expect(ranges).toHaveLength(3);
    expect(ranges).toEqual([undefined, 'bytes=100000-', 'bytes=200000-']);
  });

  it('resumes into the file it created: one put under the .incomplete name meanwhile receives none of the download', async () => {
    const so = `build/${CU128}/_relu_cuda_6a1b2c3.abi3.so`;
    const content = readFileSync(join(repoDir, so));
    const cacheDir = tempDir('kernelseal-cache-');
    const blob = join(cacheDir, 'kernels--kernels-test--relu', 'blobs', createHash('sha256').update(content).digest('hex'));
    const partial = `${blob}.incomplete`;
    // Once the first bytes are in, another cache user moves the file away and puts their own
    // under its name; then the connection drops, and the download resumes.
    const swap = async (total: number) => {
      await untilSize(partial, total);
      renameSync(partial, `${partial}.moved`);
      writeFileSync(partial, 'planted');
    };
    const h = await hub({ drop: { path: so, bytes: 100_000, times: 1, delivered: swap } });
    await expect(ks.getKernel(REPO, { ...fetchOptions(h, { cacheDir }), version: 1, variant: CU128 })).rejects.toThrow(ks.KernelRefusedError);
    expect(readFileSync(`${partial}.moved`).equals(content)).toBe(true); // all of it, resumed where it stopped
    // The planted file was renamed into place by its name, unwritten: the full check refused it.
    expect(readFileSync(blob, 'utf8')).toBe('planted');
    expect(h.requests.filter((r) => r.path.endsWith('.so')).map((r) => r.range)).toEqual([undefined, 'bytes=100000-']);
  });

  it('reports wrong content as such when the .incomplete name cannot be removed (a folder put there meanwhile)', async () => {
    const so = `build/${CU128}/_relu_cuda_6a1b2c3.abi3.so`;
    const content = readFileSync(join(repoDir, so));
    const cacheDir = tempDir('kernelseal-cache-');
    const partial = `${join(cacheDir, 'kernels--kernels-test--relu', 'blobs', createHash('sha256').update(content).digest('hex'))}.incomplete`;
    const swap = async (total: number) => {
      await untilSize(partial, total);
      renameSync(partial, `${partial}.moved`);
      mkdirSync(partial); // rm without recursive refuses it: the download's own error must still be the one reported
    };
    const h = await hub({ drop: { path: so, bytes: 100_000, times: 1, delivered: swap }, tamper: so });
    const options = { ...fetchOptions(h, { cacheDir, concurrency: 1 }), version: 1, variant: CU128 };
    await expect(ks.getKernel(REPO, options)).rejects.toThrow(`${so}: content does not match the LFS SHA-256 the Hub listed`);
    expect(lstatSync(partial).isDirectory()).toBe(true);
  });

  it('refuses a server that sends more than it listed, or other content, and keeps nothing', async () => {
    const file = `build/${CU128}/layers.py`;
    for (const faults of [{ oversize: file }, { tamper: file }]) {
      const h = await hub(faults);
      const options = fetchOptions(h, { attempts: 2 });
      await expect(ks.getKernel(REPO, { ...options, version: 1, variant: CU128 })).rejects.toThrow(/layers\.py: (the Hub sent more than|content does not match)/);
      const content = readFileSync(join(repoDir, file));
      const blobId = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
      const blobs = join(options.cacheDir, 'kernels--kernels-test--relu', 'blobs');
      expect(readdirSync(blobs)).not.toContain(blobId);
    }
  });

  it('stops the downloads under way when one fails, and answers once they have stopped', async () => {
    // All files at once; the .so stalls after its first bytes for as long as the watchdog allows
    // (an hour): only stopping it lets getKernel answer, and a hang fails the test by its timeout.
    // Nothing may still be writing once getKernel answers: the cache's folders are closed then.
    const so = `build/${CU128}/_relu_cuda_6a1b2c3.abi3.so`;
    const h = await hub({ drop: { path: so, bytes: 100_000, times: 1, delivered: () => new Promise(() => {}) }, tamper: `build/${CU128}/layers.py` });
    const options = fetchOptions(h, { attempts: 1, timeoutMs: 3_600_000, concurrency: 16 });
    await expect(ks.getKernel(REPO, { ...options, version: 1, variant: CU128 })).rejects.toThrow(/layers\.py: content does not match/);
    expect(h.requests.filter((r) => r.path.endsWith('.so'))).toHaveLength(1);
  });

  it('follows redirects, and never sends the token to another origin', async () => {
    const h = await hub({ redirect: true });
    const kernel = await ks.getKernel(REPO, { ...fetchOptions(h), token: 'hf_secret', version: 1, variant: CU126 });
    expect(kernel.verified).toBe(true);
    expect(h.requests.filter((r) => r.path.startsWith('/api/')).every((r) => r.authorization === 'Bearer hf_secret')).toBe(true);
    const cdn = h.requests.filter((r) => r.path.startsWith('/cdn/'));
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((r) => r.authorization === undefined)).toBe(true);
  });

  it.each([['../../../etc/passwd'], ['/etc/passwd'], ['build\\\\evil.so'], ['build/x/\u0000.so']])(
    'refuses a listing naming %j before writing anything',
    async (name) => {
      const h = await hub({ extraListed: [name] });
      const options = fetchOptions(h);
      await expect(ks.getKernel(REPO, { ...options, version: 1, variant: CU128 })).rejects.toThrow(/the Hub listed .*: refused/);
      expect(h.requests.filter((r) => r.path.includes('/resolve/'))).toEqual([]);
      expect(existsSync(join(options.cacheDir, 'kernels--kernels-test--relu', 'blobs'))).toBe(false);
    },
  );

  it('two concurrent fetches of one kernel agree, and share each download', async () => {
    const h = await hub();
    const options = fetchOptions(h);
    const [a, b] = await Promise.all([ks.getKernel(REPO, { ...options, version: 1, variant: CU128 }), ks.getKernel(REPO, { ...options, version: 1, variant: CU128 })]);
    expect(a.path).toBe(b.path);
    expect([a.verified, b.verified]).toEqual([true, true]);
    const downloads = h.requests.filter((r) => r.path.includes('/resolve/'));
    expect(downloads.length).toBe(new Set(downloads.map((r) => r.path)).size); // no blob fetched twice
  });

  it('keeps a receipt: the second load skips hashing, and a changed file is caught', async () => {
    const h = await hub();
    const options = fetchOptions(h);
    const first = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128 });
    const second = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128, offline: true });
    expect([first.fromReceipt, second.fromReceipt]).toEqual([false, true]);
    // Tamper with the blob behind a file: same size, new content, new change time.
    const blob = resolve(first.path, readlinkSync(join(first.path, 'layers.py')));
    const content = readFileSync(blob);
    content[0] ^= 1;
    writeFileSync(blob, content);
    const error = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128, offline: true }).catch((e) => e);
    expect(error.result).toMatchObject({ status: 'digest-mismatch' });
  });

  it('online, a second load fetches only what the cache lacks, relinks the rest, and counts every file in its progress', async () => {
    const h = await hub();
    const options = fetchOptions(h);
    const first = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128 });
    const resolves = () => h.requests.filter((r) => r.path.includes('/resolve/')).map((r) => r.path);
    const before = resolves();
    rmSync(join(first.path, 'layers.py')); // the snapshot's link: its blob is still there
    const opsBlob = resolve(first.path, readlinkSync(join(first.path, '_ops.py')));
    rmSync(opsBlob); // a blob: fetched again
    const events: { filesDone: number; filesTotal: number }[] = [];
    const second = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128, onProgress: (p) => events.push(p) });
    expect(second.verified).toBe(true);
    expect(resolves().slice(before.length)).toEqual([expect.stringMatching(/\/_ops\.py$/)]);
    expect(existsSync(join(second.path, 'layers.py')) && existsSync(opsBlob)).toBe(true);
    expect(events.at(-1)).toMatchObject({ filesDone: events.at(-1)!.filesTotal });
    expect(events.at(-1)!.filesTotal).toBeGreaterThan(2);
  });

  it('online, a receipt that holds spares checking the files one by one; a file changed since is still caught', async () => {
    const h = await hub();
    const options = fetchOptions(h);
    const first = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128 });
    const downloads = () => h.requests.filter((r) => r.path.includes('/resolve/')).length;
    const before = downloads();
    const events: { filesDone: number; filesTotal: number }[] = [];
    const second = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128, onProgress: (p) => events.push(p) });
    expect([second.verified, second.fromReceipt, downloads()]).toEqual([true, true, before]);
    expect(events.at(-1)).toMatchObject({ filesDone: events.at(-1)!.filesTotal });
    // Same size, new content: the receipt no longer holds, the blob looks complete, and the full check refuses it.
    const blob = resolve(first.path, readlinkSync(join(first.path, 'layers.py')));
    const content = readFileSync(blob);
    content[0] ^= 1;
    writeFileSync(blob, content);
    const error = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128 }).catch((e) => e);
    expect(error.result).toMatchObject({ status: 'digest-mismatch' });
  });

  it('works offline from the cache, and says so when the kernel is not there', async () => {
    const h = await hub();
    const options = fetchOptions(h);
    await ks.getKernel(REPO, { ...options, version: 1, variant: CU128 });
    const before = h.requests.length;
    const kernel = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128, offline: true });
    expect(kernel.verified).toBe(true);
    expect(h.requests.length).toBe(before);
    await expect(ks.getKernel(REPO, { ...options, version: 2, offline: true })).rejects.toThrow(/is not in the cache and offline mode is on/);
  });
});

describe('kernels.lock', () => {
  it('reads the reference lock file', async () => {
    const locks = await ks.readLockfile(testdata('kernels', 'relu-kernels.lock'));
    expect(locks[0]).toMatchObject({ repoId: 'kernels-community/relu', commit: 'd649efb56fb249ac8f7a57fa1866728ad0c60e52' });
    expect(locks[0]!.variants['torch210-cxx11-cu128-x86_64-linux']).toEqual({ hash: expect.stringMatching(/^sha256-[0-9a-f]{64}$/), hashType: 'git_lfs_concat' });
  });

  it('pins the commit and checks the variant hash against the listing', async () => {
    const h = await hub();
    const listing = await new ks.HubClient({ endpoint: h.url }).revision(REPO, 'v1');
    const lock = ks.lockFromListing(REPO, listing.commit, listing.files);
    const file = join(tempDir(), 'kernels.lock');
    await ks.writeLockfile(file, [lock]);
    const [read] = await ks.readLockfile(file);
    expect(read).toEqual(lock);
    const kernel = await ks.getKernel(REPO, { ...fetchOptions(h), lock: read, variant: CU128 });
    expect(kernel).toMatchObject({ commit: listing.commit, revision: listing.commit, verified: true });
    const wrong = { ...read!, variants: { ...read!.variants, [CU128]: { hash: `sha256-${'0'.repeat(64)}`, hashType: 'git_lfs_concat' as const } } };
    await expect(ks.getKernel(REPO, { ...fetchOptions(h), lock: wrong, variant: CU128 })).rejects.toThrow(/do not match the locked hash/);
  });
});

describe('kernelseal fetch and verify <repo>@<version>', () => {
  it('prints where the verified variant is, honouring HF_ENDPOINT and HF_HUB_CACHE', async () => {
    const h = await hub();
    const cache = tempDir();
    const env = { HF_ENDPOINT: h.url, HF_HUB_CACHE: cache, HF_TOKEN: 'hf_cli' };
    const policyFile = join(tempDir(), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ github: { repository: REPO } }));
    const trust = ['--trusted-root', sigstore.trustedRootPath, '--policy', policyFile];
    const fetched = await runCli(['fetch', REPO, '--version', '1', '--variant', CU128, ...trust], { env });
    expect(fetched.code).toBe(0);
    expect(fetched.stdout).toBe(`${join(cache, 'kernels--kernels-test--relu', 'snapshots', h.commitOf(REPO, 'v1'), 'build', CU128)}\n`);
    expect(fetched.stderr).toContain(`✅ ${REPO}@v1 ${CU128}: kernel metadata is correctly signed`);
    expect(h.requests.some((r) => r.authorization === 'Bearer hf_cli')).toBe(true);

    const refused = await runCli(['fetch', REPO, '--version', '1', '--variant', TAMPERED, ...trust], { env });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('kernel integrity check failed');

    const all = await runCli(['verify', `${REPO}@1`, '--all-variants', ...trust], { env });
    expect(all.code).toBe(1);
    // What was checked follows a ';' on the ✅ lines (receipt, streamed or re-hashed: __test__/cli-habits.test.ts).
    const lines = all.stdout.split('\n').filter((line) => /^[✅❌]/.test(line)).map((line) => line.split(';')[0]);
    expect(lines).toEqual([
      `✅ ${REPO}@v1 ${CU126}: kernel metadata is correctly signed`,
      `✅ ${REPO}@v1 ${CU128}: kernel metadata is correctly signed`,
      `❌ ${REPO}@v1 ${TAMPERED}: kernel integrity check failed`,
      `❌ ${REPO}@v1 ${UNSIGNED}: cannot verify kernel integrity, signature not found`,
    ]);
  });
});
