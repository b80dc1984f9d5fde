import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

// Network faults on 127.0.0.1 (a server that accepts and never answers, one that stops sending
// mid-body, one that is slow), offline as huggingface_hub means it, the cache when the Hub is
// unreachable, and the Hub's conventions. Every server here is local and stops by itself.
const ks = (await import(DIST)) as typeof import('../dist/index.js');
const REPO = 'my-org/relu-kernel';
const CPU = 'torch210-cxx11-cpu-x86_64-linux';
const CUDA = 'torch210-cxx11-cu128-x86_64-linux';
const policy = ks.githubWorkflowPolicy({ repository: REPO });
const closers: Array<() => unknown> = [];

const sigstore = withMockSigstore();
let repoDir: string;

beforeAll(async () => {
  repoDir = tempDir('kernelseal-hub-repo-');
  const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
  for (const name of [CPU, CUDA]) {
    const dir = join(repoDir, 'build', name);
    cpSync(unsignedVariant('relu-kernel'), dir, { recursive: true }); // named as its repository
    const metadata = join(dir, 'metadata.json');
    if (name === CPU) writeFileSync(metadata, readFileSync(metadata, 'utf8').replace('"type": "cuda"', '"type": "cpu"'));
    await ks.signVariant(dir, { signer });
  }
}, 120_000);
afterAll(async () => {
  for (const close of closers) await close();
});

async function hub(): Promise<MockHub> {
  const h = await startMockHub([{ repoId: REPO, refs: { v1: repoDir, main: repoDir } }]);
  closers.push(() => h.close());
  return h;
}

/** A server that accepts connections and never says a word; counts them. */
async function silentServer(): Promise<{ url: string; connections: () => number }> {
  const sockets: Socket[] = [];
  const server: TcpServer = createTcpServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(resolve);
  }));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, connections: () => sockets.length };
}

/** An HTTP server serving `body` for any path: all at once, slowly in chunks, or stopping half-way. */
async function fileServer(body: Buffer, how: { chunkDelayMs?: number; stallAfter?: number }): Promise<{ url: string; userAgents: string[] }> {
  const userAgents: string[] = [];
  const server: HttpServer = createHttpServer(async (req, res) => {
    userAgents.push(req.headers['user-agent'] ?? '');
    res.writeHead(200, { 'content-length': String(body.length) });
    if (how.stallAfter !== undefined) return void res.write(body.subarray(0, how.stallAfter)); // and nothing more
    for (let at = 0; at < body.length; at += 1024) {
      res.write(body.subarray(at, at + 1024));
      if (how.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, how.chunkDelayMs));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, userAgents };
}

const blobId = (content: Buffer) => createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');

describe('deadlines', () => {
  it('a Hub that accepts the connection and never answers fails in bounded time, naming it', async () => {
    const silent = await silentServer();
    const client = new ks.HubClient({ endpoint: silent.url, timeoutMs: 300 });
    await expect(client.revision(REPO, 'v1')).rejects.toThrow(`the Hub (${silent.url}) did not answer within 0.3 s (timed out)`);
    expect(silent.connections()).toBe(1);
  });

  it('a download that stops mid-body times out, retries, and gives up naming the Hub', async () => {
    const content = Buffer.alloc(64 * 1024, 7);
    const server = await fileServer(content, { stallAfter: 10_000 });
    const client = new ks.HubClient({ endpoint: server.url, timeoutMs: 300, attempts: 2 });
    const file = { path: 'build/x/weights.bin', size: content.length, blobId: blobId(content) };
    const error = await client.download(REPO, 'a'.repeat(40), file, join(tempDir(), 'weights.bin.incomplete')).catch((e: unknown) => e as Error);
    expect(error.message).toBe(`build/x/weights.bin: download failed after 2 attempts: the Hub (${server.url}) did not answer within 0.3 s (timed out)`);
  });

  it('a slow Hub that keeps sending is not cut off: the limit is on silence, not on the whole transfer', async () => {
    // 20 chunks 0.1 s apart, 2 s in all, under a limit of 1.5 s: the limit is far from any one
    // silence, so that a loaded machine's stalls (the server shares this event loop) cannot reach it.
    const content = Buffer.alloc(20 * 1024, 9);
    const server = await fileServer(content, { chunkDelayMs: 100 });
    const client = new ks.HubClient({ endpoint: server.url, timeoutMs: 1500, attempts: 1 });
    const destination = join(tempDir(), 'slow.bin');
    await client.download(REPO, 'a'.repeat(40), { path: 'build/x/slow.bin', size: content.length, blobId: blobId(content) }, destination);
    expect(readFileSync(destination)).toEqual(content);
    expect(server.userAgents[0]).toMatch(/^kernelseal\/\d+\.\d+\.\d+; node\/\d+/);
  });

  it('--timeout sets the limit on the command line, and a bad one is a usage error', async () => {
    const silent = await silentServer();
    const env = { HF_ENDPOINT: silent.url, HF_HUB_CACHE: tempDir() };
    const { code, stderr } = await runCli(['fetch', REPO, '--version', '1', '--backend', 'cpu', '--trusted-root', sigstore.trustedRootPath, '--timeout', '0.5s'], { env });
    expect(code).toBe(1);
    expect(stderr).toContain(`the Hub (${silent.url}) did not answer within 0.5 s (timed out)`);
    expect((await runCli(['fetch', REPO, '--timeout', 'soon', '--offline'], { env })).code).toBe(2);
  });
});

describe('offline and the cache', () => {
  it('a Hub that cannot be reached falls back to a revision already in the cache, with one warning', async () => {
    const h = await hub();
    const cacheDir = tempDir('kernelseal-cache-');
    const options = { cacheDir, policy, trustedRoot: sigstore.parsedRoot, version: 1, variant: CPU };
    const first = await ks.getKernel(REPO, { ...options, endpoint: h.url, onWarning: () => {} });
    expect(first.revisionSource).toBe('hub');
    expect((await ks.getKernel(REPO, { ...options, offline: true })).revisionSource).toBe('cache');
    await h.close();
    const warnings: string[] = [];
    const second = await ks.getKernel(REPO, { ...options, endpoint: h.url, onWarning: (w: string) => warnings.push(w) });
    expect(second).toMatchObject({ verified: true, commit: first.commit, path: first.path, revisionSource: 'cache-fallback' });
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^cannot reach the Hub \\(${h.url.replace(/[.]/g, '\\.')}\\): .*; using ${REPO}@v1 from the cache \\(${first.commit}\\)$`))]);
    // The command line says so in its JSON too.
    const env = { HF_ENDPOINT: h.url, HF_HUB_CACHE: cacheDir };
    const fetched = await runCli(['fetch', REPO, '--version', '1', '--variant', CPU, '--trusted-root', sigstore.trustedRootPath, '--policy', writePolicy(), '--json'], { env });
    expect(fetched.code).toBe(0);
    expect(JSON.parse(fetched.stdout)).toMatchObject({ ok: true, results: [{ commit: first.commit, revisionSource: 'cache-fallback', status: 'verified' }] });
    // Nothing cached for what is asked: the error names the folder searched.
    await expect(ks.getKernel(REPO, { ...options, endpoint: h.url, version: 7, onWarning: () => {} })).rejects.toMatchObject({
      code: 'HUB_UNREACHABLE',
      message: expect.stringContaining(`; and ${REPO}@v7 is not in the cache (${join(cacheDir, 'kernels--my-org--relu-kernel')})`),
    });
    // A Hub that answers "no" is believed, never replaced by the cache.
    const other = await hub();
    await expect(ks.getKernel(REPO, { ...options, endpoint: other.url, version: 9, onWarning: () => {} })).rejects.toThrow(/no such repository or revision v9/);
  });

  it('with a lock, a Hub that cannot be reached falls back to the locked commit only, its files checked against the lock', async () => {
    const h = await hub();
    const cacheDir = tempDir('kernelseal-cache-');
    const listing = await new ks.HubClient({ endpoint: h.url }).revision(REPO, 'v1');
    const lock = ks.lockFromListing(REPO, listing.commit, listing.files);
    const options = { cacheDir, policy, trustedRoot: sigstore.parsedRoot, variant: CPU, endpoint: h.url, onWarning: () => {} };
    await ks.getKernel(REPO, { ...options, version: 1 }); // the locked commit, as v1 resolves
    await ks.getKernel(REPO, { ...options, revision: 'main' }); // another commit of the same files
    writeFileSync(join(cacheDir, 'kernels--my-org--relu-kernel', 'refs', 'v1'), h.commitOf(REPO, 'main')); // v1 moved since
    await h.close();
    const kernel = await ks.getKernel(REPO, { ...options, lock, version: 1 });
    expect(kernel).toMatchObject({ verified: true, commit: lock.commit, revision: lock.commit, revisionSource: 'cache-fallback' });
    const wrong = { ...lock, variants: { [CPU]: { hash: `sha256-${'1'.repeat(64)}`, hashType: 'git_lfs_concat' as const } } };
    await expect(ks.getKernel(REPO, { ...options, lock: wrong })).rejects.toMatchObject({ code: 'LOCKFILE_MISMATCH', message: expect.stringContaining('in the cache') });
    const elsewhere = { ...lock, commit: 'e'.repeat(40) }; // a locked commit the cache does not hold
    await expect(ks.getKernel(REPO, { ...options, lock: elsewhere })).rejects.toMatchObject({ code: 'HUB_UNREACHABLE', message: expect.stringContaining(`is not in the cache`) });
  });

  it.each(['1', 'true', 'YES', 'on'])('HF_HUB_OFFLINE=%s means no network at all: neither the Hub nor the TUF refresh is contacted', async (value) => {
    const h = await hub();
    const cacheDir = tempDir('kernelseal-cache-');
    await ks.getKernel(REPO, { endpoint: h.url, cacheDir, policy, trustedRoot: sigstore.parsedRoot, version: 1, variant: CPU, onWarning: () => {} });
    const silent = await silentServer();
    const env = { HF_HUB_OFFLINE: value, HF_ENDPOINT: silent.url, HF_HUB_CACHE: cacheDir, KERNELSEAL_TUF_MIRROR: silent.url, KERNELSEAL_TUF_CACHE: tempDir() };
    // No --trusted-root: the public-good root would be refreshed through TUF if offline were ignored.
    const { code, stderr } = await runCli(['verify', `${REPO}@1`, '--variant', CPU, '--certificate-identity-regexp', `https://github\\.com/${REPO.split('/')[0]}/.*`, '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com'], { env });
    expect(silent.connections()).toBe(0);
    expect(stderr).not.toContain('warning');
    expect(code).toBe(1); // the mock's signature does not chain to the public-good root: refused, offline
  });
});

describe("the Hub's conventions", () => {
  it("reads the token 'hf auth login' wrote to $HF_HOME/token when HF_TOKEN is unset", async () => {
    const h = await hub();
    const home = tempDir('kernelseal-hf-home-');
    writeFileSync(join(home, 'token'), 'hf_from_login\n');
    const env = { HF_HOME: home, HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_ENDPOINT: h.url, HF_HUB_CACHE: undefined, HUGGINGFACE_HUB_CACHE: undefined };
    const { code } = await runCli(['fetch', REPO, '--version', '1', '--variant', CPU, '--trusted-root', sigstore.trustedRootPath, '--policy', writePolicy()], { env });
    expect(code).toBe(0);
    expect(h.requests.length).toBeGreaterThan(0);
    expect(h.requests.every((r) => r.authorization === 'Bearer hf_from_login')).toBe(true);
    // The cache went where huggingface_hub puts it: $HF_HOME/hub.
    expect(readFileSync(join(home, 'hub', 'kernels--my-org--relu-kernel', 'refs', 'v1'), 'utf8')).toBe(h.commitOf(REPO, 'v1'));
  });

  it("waits for a blob lock Python's filelock holds (flock on the same file), and never deletes it", async () => {
    const h = await hub();
    const cacheDir = tempDir('kernelseal-cache-');
    const content = readFileSync(join(repoDir, 'build', CPU, 'layers.py'));
    const lockDir = join(cacheDir, '.locks', 'kernels--my-org--relu-kernel');
    mkdirSync(lockDir, { recursive: true });
    const lock = join(lockDir, `${blobId(content)}.lock`);
    const released = join(tempDir(), 'released-by-python');
    // What huggingface_hub does through filelock: flock(LOCK_EX) on <cache>/.locks/<repo>/<blob>.lock,
    // held here until the test says so, and a mark left just before letting go.
    const holder = spawn('python3', ['-c', `import fcntl, os, sys
fd = os.open(${JSON.stringify(lock)}, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print('held', flush=True)
sys.stdin.readline()
open(${JSON.stringify(released)}, 'w').close()
fcntl.flock(fd, fcntl.LOCK_UN)
os.close(fd)`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    let settled = false;
    const loading = ks.getKernel(REPO, { endpoint: h.url, cacheDir, policy, trustedRoot: sigstore.parsedRoot, version: 1, variant: CPU, onWarning: () => {} });
    loading.then(() => (settled = true), () => (settled = true));
    // A load that took the blob anyway would be done well within a second; this one waits.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(settled).toBe(false);
    holder.stdin.end('go\n');
    const kernel = await loading;
    expect(kernel.verified).toBe(true);
    expect(existsSync(released)).toBe(true); // it took the blob only after Python let go
    expect(existsSync(lock)).toBe(true);
    await exited;
  });

  it('HUGGINGFACE_HUB_CACHE is honoured when HF_HUB_CACHE is not set', async () => {
    const h = await hub();
    const cache = tempDir('kernelseal-old-cache-');
    const env = { HF_HUB_CACHE: '', HUGGINGFACE_HUB_CACHE: cache, HF_ENDPOINT: h.url };
    expect((await runCli(['fetch', REPO, '--version', '1', '--variant', CPU, '--trusted-root', sigstore.trustedRootPath, '--policy', writePolicy()], { env })).code).toBe(0);
    expect(readFileSync(join(cache, 'kernels--my-org--relu-kernel', 'refs', 'v1'), 'utf8')).toBe(h.commitOf(REPO, 'v1'));
  });

  it('never guesses the GPU backend: a kernel built for several is refused until one is named', async () => {
    const h = await hub();
    const options = { endpoint: h.url, cacheDir: tempDir(), policy, trustedRoot: sigstore.parsedRoot, version: 1, onWarning: () => {} };
    await expect(ks.getKernel(REPO, { ...options, selector: { os: 'linux', arch: 'x86_64' } })).rejects.toThrow(/built for cpu, cuda: say which backend/);
    expect((await ks.getKernel(REPO, { ...options, selector: { backend: 'cpu' } })).variant).toBe(CPU);
    expect((await ks.getKernel(REPO, { ...options, selector: { backend: 'cuda', backendVersion: '12.9' } })).variant).toBe(CUDA);
  });
});

describe('the flags people already type', () => {
  it('verify <repo> 1, verify <repo> --version 1, and the kernels CLI name verify-signature', async () => {
    const h = await hub();
    const env = { HF_ENDPOINT: h.url, HF_HUB_CACHE: tempDir() };
    const trust = ['--trusted-root', sigstore.trustedRootPath, '--policy', writePolicy(), '--variant', CPU];
    for (const args of [['verify', REPO, '1'], ['verify', REPO, '--version', '1'], ['verify-signature', `${REPO}@1`]]) {
      const { code, stdout } = await runCli([...args, ...trust], { env });
      expect(stdout).toContain(`✅ ${REPO}@v1 ${CPU}: kernel metadata is correctly signed`);
      expect(code).toBe(0);
    }
    const missing = await runCli(['verify', REPO, ...trust.slice(0, 4)], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${REPO}: no such directory (a kernel on the Hub: ${REPO}@<version>, or add --version N)`);
  });

  it('a typo gets a suggestion; verify-blob is verify-bundle', async () => {
    const typo = await runCli(['verfy', 'x']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^kernelseal: unknown command 'verfy': did you mean 'verify'\?/);
    const help = await runCli(['verify-blob', '--help']);
    expect(help.stdout).toMatch(/^Usage: kernelseal verify-bundle/);
  });
});

function writePolicy(): string {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'policy.json');
  writeFileSync(path, JSON.stringify({ github: { repository: REPO, workflow: '.github/workflows/build.yaml', ref: 'refs/heads/main' } }));
  return path;
}
