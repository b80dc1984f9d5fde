import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, ROOT, runCli, testdata } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
// Receipts are keyed with a file outside the cache (src/kernels/hub/receipt-key.ts): one per test file, not the user's.
process.env.KERNELSEAL_RECEIPT_KEY_FILE = join(tempDir('kernelseal-state-'), 'receipt.key');
const REPO = 'kernels-test/relu';
const CU128 = 'torch210-cxx11-cu128-x86_64-linux';
const CU126 = 'torch210-cxx11-cu126-x86_64-linux';
const UNSIGNED = 'torch29-cxx11-cpu-x86_64-linux';
const TAMPERED = 'torch210-cxx11-cu130-x86_64-linux';
const REPO_FOLDER = 'kernels--kernels-test--relu';

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
    await expect(ks.getKernel(REPO, { ...fetchOptions(h), version: 1, selector: { backend: 'rocm' } })).rejects.toMatchObject({
      code: 'VARIANT_UNAVAILABLE',
      message: expect.stringMatching(/no variant fits; available: torch210-/),
    });
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

  it('takes several trusted roots (as gh attestation trusted-root writes them) and checks each signature against the one whose CA issued it', async () => {
    const h = await hub();
    const both = [ks.pinnedTrustedRoot(), sigstore.parsedRoot];
    const kernel = await ks.getKernel(REPO, { ...fetchOptions(h), trustedRoot: both, version: 1, variant: CU128 });
    expect(kernel).toMatchObject({ verified: true, variant: CU128 });
    // Without the root of the CA that issued the certificate, the same load is refused.
    const error = await ks.getKernel(REPO, { ...fetchOptions(h), trustedRoot: [ks.pinnedTrustedRoot()], version: 1, variant: CU128 }).catch((e) => e);
    expect(error).toBeInstanceOf(ks.KernelRefusedError);
    expect(error.result).toMatchObject({ status: 'signature-invalid' });
    // The CLI's fetch reads JSON Lines of roots, as verify does.
    const lines = tempDir();
    const github = JSON.parse(readFileSync(join(ROOT, 'trust', 'github.trusted_root.json'), 'utf8'));
    writeFileSync(join(lines, 'roots.jsonl'), `${JSON.stringify(github)}\n${JSON.stringify(sigstore.trustedRoot)}\n`);
    const policyFile = join(lines, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ github: { repository: REPO } }));
    const cli = await runCli(['fetch', REPO, '--version', '1', '--variant', CU128, '--trusted-root', join(lines, 'roots.jsonl'), '--policy', policyFile, '--json'], { env: { HF_ENDPOINT: h.url, HF_HUB_CACHE: tempDir() } });
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, results: [{ ok: true }] });
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
    const error = await ks.getKernel(REPO, { ...fetchOptions(h, { cacheDir }), version: 1, variant: CU128 }).catch((e: InstanceType<typeof ks.KernelRefusedError>) => e);
    expect(error).toMatchObject({ code: 'KERNEL_UNVERIFIED', result: { status: 'digest-mismatch' } });
    expect((error.result as { violations: unknown[] }).violations.map(String)).toEqual([expect.stringMatching(/^File hash mismatch for _relu_cuda_6a1b2c3\.abi3\.so/)]);
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
    await expect(ks.getKernel(REPO, options)).rejects.toMatchObject({ code: 'HUB_STATUS', status: 422, message: `${so}: content does not match the LFS SHA-256 the Hub listed` });
    expect(lstatSync(partial).isDirectory()).toBe(true);
  });

  it('refuses a server that sends more than it listed, or other content, and keeps nothing', async () => {
    const file = `build/${CU128}/layers.py`;
    for (const [faults, refusal] of [
      [{ oversize: file }, { code: 'HUB_REFUSED', message: expect.stringContaining(`${file}: the Hub sent more than the`) }],
      [{ tamper: file }, { code: 'HUB_STATUS', status: 422, message: `${file}: content does not match the Git blob ID the Hub listed` }],
    ] as const) {
      const h = await hub(faults);
      const options = fetchOptions(h, { attempts: 2 });
      await expect(ks.getKernel(REPO, { ...options, version: 1, variant: CU128 })).rejects.toMatchObject(refusal);
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
    await expect(ks.getKernel(REPO, { ...options, version: 1, variant: CU128 })).rejects.toMatchObject({ code: 'HUB_STATUS', status: 422, message: expect.stringMatching(/layers\.py: content does not match/) });
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
      await expect(ks.getKernel(REPO, { ...options, version: 1, variant: CU128 })).rejects.toMatchObject({ code: 'HUB_REFUSED', message: expect.stringMatching(/the Hub listed .*: refused$/) });
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
    const refs = join(options.cacheDir, 'kernels--kernels-test--relu', 'refs');
    await expect(ks.getKernel(REPO, { ...options, version: 2, offline: true })).rejects.toThrow(`${REPO}@v2 is not in the cache (no ${join(refs, 'v2')}) and offline mode is on`);
    const commit = 'c'.repeat(40); // a commit: its snapshot is what is searched
    await expect(ks.getKernel(REPO, { ...options, revision: commit, offline: true })).rejects.toThrow(
      `${REPO}@${commit} is not in the cache (no ${join(options.cacheDir, 'kernels--kernels-test--relu', 'snapshots', commit)}) and offline mode is on`,
    );
  });
});

describe('a repository renamed on the Hub', () => {
  it('is refused: what was decided for the name asked is not carried over to the repository the Hub answers for', async () => {
    const OTHER = 'someone-else/relu';
    const h = await startMockHub([{ repoId: OTHER, refs: { v1: repoDir, main: repoDir } }], { renamed: { [REPO]: OTHER } });
    hubs.push(h);
    const options = fetchOptions(h);
    const error = await ks.getKernel(REPO, { ...options, version: 1, variant: CU128 }).catch((e) => e);
    expect(error).toBeInstanceOf(ks.HubError);
    expect(error.message).toBe(`${REPO}@v1: the Hub answered for another repository, "${OTHER}" (renamed?): ask for it by that name, so that what you trust is decided for it`);
    // Nothing was fetched or written for either name.
    expect(h.requests.filter((r) => r.path.includes('/resolve/'))).toEqual([]);
    expect(existsSync(join(options.cacheDir, REPO_FOLDER, 'refs'))).toBe(false);
    const policyFile = join(tempDir(), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ github: { repository: REPO } }));
    const cli = await runCli(['fetch', REPO, '--version', '1', '--variant', CU128, '--trusted-root', sigstore.trustedRootPath, '--policy', policyFile], { env: { HF_ENDPOINT: h.url, HF_HUB_CACHE: tempDir() } });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`kernelseal fetch: ${REPO}@v1: the Hub answered for another repository, "${OTHER}"`);
    // A name differing only in case is the same repository to the Hub, and to us.
    const same = await startMockHub([{ repoId: REPO, refs: { v1: repoDir, main: repoDir } }], { renamed: { 'Kernels-Test/relu': REPO } });
    hubs.push(same);
    await expect(ks.getKernel('Kernels-Test/relu', { ...fetchOptions(same), version: 1, variant: CU128 })).resolves.toMatchObject({ verified: true });
  });
});

describe('the caller\'s side of a load', () => {
  it('takes a malformed repository id for the caller\'s mistake (TypeError, before any request), and the CLI for a usage error', async () => {
    const h = await hub();
    for (const repoId of ['relu', 'a/b/c', '../relu', 'org/..', 'org--x/relu', 'org/re lu', 'org/relu-', '']) {
      await expect(ks.getKernel(repoId, fetchOptions(h))).rejects.toThrow(new TypeError(`not a repository id: ${JSON.stringify(repoId)}`));
      await expect(ks.listVariants(repoId, fetchOptions(h))).rejects.toThrow(TypeError);
    }
    expect(h.requests).toEqual([]);
    const cli = await runCli(['fetch', 'org/re lu', '--trusted-root', sigstore.trustedRootPath], { env: { HF_ENDPOINT: h.url, HF_HUB_CACHE: tempDir() } });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('"org/re lu" is not a repository id: write org/name');
    const verify = await runCli(['verify', 'org--x/relu@1', '--trusted-root', sigstore.trustedRootPath], { env: { HF_ENDPOINT: h.url, HF_HUB_CACHE: tempDir() } });
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain('"org--x/relu" is not a repository id: write org/name');
    expect(h.requests).toEqual([]);
  });

  it('hashes the files with the backend given, which is told nothing of the trust anchor or the lock, nor asked to lock the blobs', async () => {
    const h = await hub();
    const inner = ks.pureBackend;
    const seen: { hashed: unknown[]; locked: number } = { hashed: [], locked: 0 };
    // A backend's lockFile is not what locks the blobs: every kernelseal locks alike, whatever
    // hashes (src/fs/file-lock.ts; two processes hashing differently exclude each other,
    // __test__/file-lock.test.ts).
    const backend = {
      ...inner,
      async hashVariant(...args: Parameters<typeof inner.hashVariant>) {
        seen.hashed.push(args[2]);
        return inner.hashVariant(...args);
      },
      lockFile: () => {
        seen.locked += 1;
        return true;
      },
    };
    const options = { ...fetchOptions(h), version: 1, variant: CU126, backend };
    const first = await ks.getKernel(REPO, options);
    expect(first).toMatchObject({ verified: true, fromReceipt: false });
    expect(seen.locked).toBe(0);
    // Without its receipt, a load offline hashes the files in full: through the backend given,
    // told only what hashing needs (never the policy, the lock, the endpoint or the root).
    rmSync(join(options.cacheDir, REPO_FOLDER, '.kernelseal'), { recursive: true });
    const again = await ks.getKernel(REPO, { ...options, offline: true });
    expect(again).toMatchObject({ verified: true, fromReceipt: false });
    expect(seen.hashed).toHaveLength(1);
    expect(Object.keys(seen.hashed[0] as object).filter((key) => !['backend', 'bytecode', 'onProgress', 'signal'].includes(key))).toEqual([]);
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
    await expect(ks.getKernel(REPO, { ...fetchOptions(h), lock: wrong, variant: CU128 })).rejects.toMatchObject({ code: 'LOCKFILE_MISMATCH', message: expect.stringMatching(/on the Hub do not match the locked hash/) });
  });

  /** The lock of REPO at `ref` on `h`, as `kernels lock` writes it. */
  async function lockOf(h: MockHub, ref: string) {
    const listing = await new ks.HubClient({ endpoint: h.url }).revision(REPO, ref);
    return ks.lockFromListing(REPO, listing.commit, listing.files);
  }
  /** Same size, other bytes: what a cache writer can put under a blob's name. */
  const otherBytes = (good: Buffer) => Buffer.from(good.map((byte, i) => (i === 0 ? byte ^ 1 : byte)));
  const gitBlobId = (content: Buffer) => createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
  /** Puts other bytes of the same size under the blob name of `file` (of `variant`) in `cacheDir`; returns the good bytes and the blob's path. */
  const plantOther = (cacheDir: string, variant: string, file: string) => {
    const good = readFileSync(join(repoDir, 'build', variant, file));
    const blob = join(cacheDir, REPO_FOLDER, 'blobs', gitBlobId(good));
    mkdirSync(dirname(blob), { recursive: true });
    writeFileSync(blob, otherBytes(good));
    return { good, blob };
  };

  it('a blob already in the cache counts, under a lock, only as the object the locked listing names: another of the same size is downloaded again', async () => {
    const h = await hub();
    const lock = await lockOf(h, 'v1');
    const options = fetchOptions(h);
    const files = ['layers.py', 'metadata.json'].map((file) => ({ file, ...plantOther(options.cacheDir, CU128, file) }));
    const kernel = await ks.getKernel(REPO, { ...options, lock, variant: CU128 });
    expect(kernel).toMatchObject({ verified: true, commit: lock.commit });
    for (const { file, good, blob } of files) {
      expect(readFileSync(blob), file).toEqual(good);
      expect(h.requests.some((r) => r.path.endsWith(`/build/${CU128}/${file}`)), file).toBe(true);
    }
  });

  it('without a lock too, the signed files already in the cache count only as the listed objects; the rest is left to the signed digest, which names a wrong one', async () => {
    const h = await hub();
    const options = fetchOptions(h);
    const metadata = plantOther(options.cacheDir, CU128, 'metadata.json'); // read before anything: it would fail the signature
    expect(await ks.getKernel(REPO, { ...options, version: 1, variant: CU128 })).toMatchObject({ verified: true });
    expect(readFileSync(metadata.blob)).toEqual(metadata.good);
    const again = fetchOptions(h);
    plantOther(again.cacheDir, CU128, 'layers.py');
    const error = await ks.getKernel(REPO, { ...again, version: 1, variant: CU128 }).catch((e: InstanceType<typeof ks.KernelRefusedError>) => e);
    expect(error).toMatchObject({ code: 'KERNEL_UNVERIFIED', result: { status: 'digest-mismatch' } });
    expect((error.result as { violations: unknown[] }).violations.map(String)).toEqual([expect.stringMatching(/^File hash mismatch for layers\.py/)]);
  });

  it('a variant taken unsigned has nothing else to check its files: one already in the cache counts only as the listed object', async () => {
    const h = await hub();
    const options = fetchOptions(h);
    const layers = plantOther(options.cacheDir, UNSIGNED, 'layers.py');
    // A state of its own: where a signed variant of REPO was verified, an unsigned one is a signer
    // change (__test__/signer-memory.test.ts).
    const stateDir = tempDir('kernelseal-state-');
    const kernel = await ks.getKernel(REPO, { ...options, version: 1, variant: UNSIGNED, allowUnsigned: true, stateDir });
    expect(kernel).toMatchObject({ verified: false });
    expect(readFileSync(join(kernel.path, 'layers.py'))).toEqual(layers.good); // downloaded again: what the listing names
  });

  it('offline (or with the Hub out of reach) the locked hash is computed from the cached files: the locked build passes, another signed build in its snapshot is refused', async () => {
    // v2: CU128 with layers.py changed, signed again; both builds fetched into one cache.
    const repo2 = tempDir('kernelseal-hub-repo-');
    cpSync(repoDir, repo2, { recursive: true });
    rmSync(join(repo2, 'build', CU128, '__pycache__'), { recursive: true }); // signing refuses it
    writeFileSync(join(repo2, 'build', CU128, 'layers.py'), 'class ReLU:\n    pass  # v2\n');
    const metadata = join(repo2, 'build', CU128, 'metadata.json');
    writeFileSync(metadata, readFileSync(metadata, 'utf8').replace('"version": 1', '"version": 2'));
    const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
    await ks.signVariant(join(repo2, 'build', CU128), { signer });
    const h = await startMockHub([{ repoId: REPO, refs: { v1: repoDir, v2: repo2 } }]);
    hubs.push(h);
    const options = fetchOptions(h, { variant: CU128 });
    const v1 = await ks.getKernel(REPO, { ...options, version: 1 });
    const v2 = await ks.getKernel(REPO, { ...options, version: 2 });
    const lock = await lockOf(h, 'v2');
    const offline = { ...options, lock, offline: true };
    expect(await ks.getKernel(REPO, offline)).toMatchObject({ verified: true, commit: v2.commit, revisionSource: 'cache' });
    const wrong = { ...lock, variants: { [CU128]: { hash: `sha256-${'0'.repeat(64)}`, hashType: 'git_lfs_concat' as const } } };
    const mismatch = { code: 'LOCKFILE_MISMATCH', message: `${REPO}@${v2.commit}: the files of ${CU128} in the cache (${v2.path}) do not match the locked hash ` };
    await expect(ks.getKernel(REPO, { ...offline, lock: wrong })).rejects.toMatchObject({ ...mismatch, message: `${mismatch.message}${wrong.variants[CU128].hash}` });
    // A cache writer puts v1's links in v2's snapshot: a signed build, only not the locked one.
    rmSync(v2.path, { recursive: true });
    cpSync(v1.path, v2.path, { recursive: true, verbatimSymlinks: true });
    expect(await ks.getKernel(REPO, { ...options, offline: true, revision: v2.commit })).toMatchObject({ verified: true }); // nothing else could tell
    await expect(ks.getKernel(REPO, offline)).rejects.toMatchObject({ ...mismatch, message: `${mismatch.message}${lock.variants[CU128]!.hash}` });
  });

  it('offline, a cached file whose object ID cannot be told, or which is not the object its name says, is refused under a lock, named', async () => {
    const h = await hub();
    const lock = await lockOf(h, 'v1');
    const options = fetchOptions(h, { lock, variant: CU128 });
    const kernel = await ks.getKernel(REPO, options);
    const layers = join(kernel.path, 'layers.py');
    const blob = resolve(kernel.path, readlinkSync(layers));
    const content = readFileSync(blob);
    rmSync(layers);
    writeFileSync(layers, content); // the same bytes, but no blob name to say what kind of object it is
    await expect(ks.getKernel(REPO, { ...options, offline: true })).rejects.toMatchObject({
      code: 'LOCKFILE_MISMATCH',
      message: `${layers}: not a link to a blob of the cache named by its object ID: cannot tell its ID`,
    });
    rmSync(layers);
    symlinkSync(relative(kernel.path, blob), layers);
    writeFileSync(blob, otherBytes(content));
    await expect(ks.getKernel(REPO, { ...options, offline: true })).rejects.toMatchObject({
      code: 'LOCKFILE_MISMATCH',
      message: `${layers}: the blob ${basename(blob)} holds another object (${gitBlobId(otherBytes(content))})`,
    });
  });

  it('under a lock nothing unsigned is taken, allowUnsigned or not, online or offline', async () => {
    const h = await hub();
    const lock = await lockOf(h, 'v1');
    const options = fetchOptions(h, { lock, variant: UNSIGNED, allowUnsigned: true });
    for (const offline of [false, true]) {
      const error = await ks.getKernel(REPO, { ...options, offline }).catch((e: unknown) => e);
      expect(error, offline ? 'offline' : 'online').toMatchObject({ name: 'KernelRefusedError', code: 'KERNEL_UNVERIFIED', result: { status: 'signature-missing' } });
    }
    const lockfile = join(tempDir(), 'kernels.lock');
    await ks.writeLockfile(lockfile, [lock]);
    const cli = await runCli(['fetch', REPO, '--variant', UNSIGNED, '--lockfile', lockfile, '--allow-unsigned', '--trusted-root', sigstore.trustedRootPath], { env: { HF_ENDPOINT: h.url, HF_HUB_CACHE: tempDir() } });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('--allow-unsigned cannot be used with --lockfile: a lock names signed content');
  });
});

describe('the path handed back, and the kernel it holds', () => {
  it.each([['the snapshot', 3], ['its build/', 2], ['the variant folder', 1]])(
    'offline, %s as a link (to a copy of the same signed files, outside the cache) is refused, named',
    async (_what, up) => {
      const h = await hub();
      const options = fetchOptions(h, { version: 1, variant: CU128 });
      const kernel = await ks.getKernel(REPO, options);
      let folder = kernel.path;
      for (let i = 1; i < up; i++) folder = dirname(folder);
      const outside = join(tempDir('kernelseal-elsewhere-'), basename(folder));
      renameSync(folder, outside);
      symlinkSync(outside, folder);
      const error = await ks.getKernel(REPO, { ...options, offline: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'UnsafePathError', code: 'UNSAFE_PATH', message: `refusing ${folder}: a symbolic link in the cache` });
    },
  );

  it('a variant folder replaced by another while it is verified is not handed back', async () => {
    const h = await hub();
    const options = fetchOptions(h, { version: 1, variant: CU128 });
    const kernel = await ks.getKernel(REPO, options);
    writeFileSync(join(kernel.path, 'layers.py'), readFileSync(join(kernel.path, 'layers.py'))); // a write: the receipt no longer holds
    let swapped = false;
    const onHashProgress = () => {
      if (swapped) return;
      cpSync(kernel.path, `${kernel.path}.copy`, { recursive: true, verbatimSymlinks: true });
      renameSync(kernel.path, `${kernel.path}.old`);
      renameSync(`${kernel.path}.copy`, kernel.path); // a real folder, the same files: another folder all the same
      swapped = true;
    };
    const error = await ks.getKernel(REPO, { ...options, offline: true, onHashProgress }).catch((e: unknown) => e);
    expect(swapped).toBe(true);
    expect(error).toMatchObject({ code: 'UNSAFE_PATH', message: `refusing ${kernel.path}: replaced by another folder while it was verified` });
  });

  it("refuses another kernel signed by the same identity, served under this repository's name; takes one named as the repository, as the Hub and Python spell names", async () => {
    const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
    const built = async (name: string) => {
      const dir = tempDir('kernelseal-hub-repo-');
      cpSync(unsignedVariant(name), join(dir, 'build', CU128), { recursive: true });
      await ks.signVariant(join(dir, 'build', CU128), { signer });
      return dir;
    };
    const activation = await built('activation');
    const h = await startMockHub([
      { repoId: REPO, refs: { v1: activation } },
      { repoId: 'kernels-test/Activation', refs: { v1: activation } },
      { repoId: 'kernels-test/relu_kernel', refs: { v1: await built('relu-kernel') } },
    ]);
    hubs.push(h);
    const options = fetchOptions(h, { version: 1, variant: CU128 });
    for (const offline of [false, true]) {
      const error = await ks.getKernel(REPO, { ...options, offline }).catch((e: unknown) => e);
      expect(error, offline ? 'offline' : 'online').toMatchObject({
        code: 'KERNEL_UNVERIFIED',
        result: { status: 'metadata-invalid', reason: `the signed metadata is for the kernel "activation", not ${REPO}` },
      });
    }
    expect(await ks.getKernel('kernels-test/Activation', options)).toMatchObject({ verified: true });
    expect(await ks.getKernel('kernels-test/relu_kernel', options)).toMatchObject({ verified: true });
  });

  it('refuses, asked for version 2, a build signed as version 1 served on the v2 branch; a revision asked by name is not bound so', async () => {
    const h = await startMockHub([{ repoId: REPO, refs: { v2: repoDir } }]);
    hubs.push(h);
    const options = fetchOptions(h, { variant: CU128 });
    for (const offline of [false, true]) {
      const error = await ks.getKernel(REPO, { ...options, version: 2, offline }).catch((e: unknown) => e);
      expect(error, offline ? 'offline' : 'online').toMatchObject({
        code: 'KERNEL_UNVERIFIED',
        result: { status: 'metadata-invalid', reason: `the signed metadata is for version 1 of ${REPO}, not version 2` },
      });
    }
    expect(await ks.getKernel(REPO, { ...options, revision: 'v2' })).toMatchObject({ verified: true }); // the caller named the branch, not a version
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

  it('verify --all-variants of a revision without a single variant fails, online and offline, saying so (in JSON too)', async () => {
    const empty = tempDir('kernelseal-hub-repo-');
    writeFileSync(join(empty, 'README.md'), '# nothing built yet\n');
    const h = await startMockHub([{ repoId: REPO, refs: { v1: empty } }]);
    hubs.push(h);
    const cache = tempDir('kernelseal-cache-');
    const policyFile = join(tempDir(), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ github: { repository: REPO } }));
    const args = ['verify', `${REPO}@1`, '--all-variants', '--trusted-root', sigstore.trustedRootPath, '--policy', policyFile];
    const commit = h.commitOf(REPO, 'v1');
    const nothing = { subject: `${REPO}@v1`, ok: false, status: 'variant-invalid', reason: `no variant under build/ at ${commit}: nothing to verify` };
    const online = await runCli([...args, '--json'], { env: { HF_ENDPOINT: h.url, HF_HUB_CACHE: cache } });
    expect(online.code).toBe(1);
    expect(JSON.parse(online.stdout)).toEqual({ schemaVersion: 1, command: 'verify', ok: false, exitCode: 1, results: [nothing] });
    // The revision in the cache, as huggingface_hub leaves a snapshot without build/.
    mkdirSync(join(cache, REPO_FOLDER, 'snapshots', commit), { recursive: true });
    const offline = await runCli(args, { env: { HF_ENDPOINT: h.url, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' } });
    expect(offline.code).toBe(1);
    expect(offline.stdout).toBe(`❌ ${REPO}@v1: not a kernel variant: no variant under build/ at ${commit}: nothing to verify\n`);
  });
});
