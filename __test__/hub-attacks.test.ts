import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { githubActionsClaims, identityToken, startMockSigstore, type MockSigstore } from './helpers/mock-sigstore.ts';
import { mkfifo, tempDir } from './helpers/fs.js';
import { CLI, DIST } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

/**
 * Issue 11, items 4 to 6: a shared Hugging Face cache that another local user writes to, and a
 * hostile Hub. Each attack names what it would have achieved; each refusal is asserted by reason.
 */
const ks = (await import(DIST)) as typeof import('../dist/index.js');

const REPO = 'kernels-test/relu';
const VARIANT = 'torch210-cxx11-cu128-x86_64-linux';
const REPO_FOLDER = 'kernels--kernels-test--relu';

let sigstore: MockSigstore;
let hub: MockHub;
let policyFile: string;
let trustedRoot: ReturnType<typeof ks.parseTrustedRoot>;
let commit: string;

beforeAll(async () => {
  sigstore = await startMockSigstore();
  trustedRoot = ks.parseTrustedRoot(sigstore.trustedRoot, 'mock');
  const repoDir = tempDir('kernelseal-hub-repo-');
  const dir = join(repoDir, 'build', VARIANT);
  cpSync(unsignedVariant(), dir, { recursive: true });
  await ks.signVariant(dir, { signer: { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } });
  hub = await startMockHub([{ repoId: REPO, refs: { v1: repoDir } }]);
  commit = hub.commitOf(REPO, 'v1');
  policyFile = join(tempDir(), 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ github: { repository: REPO } }));
}, 120_000);
afterAll(async () => {
  await hub.close();
  await sigstore.close();
});

/** getKernel of the variant into `cacheDir`, collecting warnings. */
function load(cacheDir: string, extra: Record<string, unknown> = {}) {
  const warnings: string[] = [];
  const kernel = ks.getKernel(REPO, {
    endpoint: hub.url,
    cacheDir,
    policy: ks.githubWorkflowPolicy({ repository: REPO }),
    trustedRoot,
    version: 1,
    variant: VARIANT,
    onWarning: (w: string) => warnings.push(w),
    ...extra,
  });
  return { kernel, warnings };
}

/** The real `kernelseal` as a child that is killed if it does not exit in time: a hang shows as SIGKILL. */
function runCliWithin(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000, killSignal: 'SIGKILL' });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

const offlineFetch = (cache: string) =>
  runCliWithin(['fetch', REPO, '--version', '1', '--variant', VARIANT, '--trusted-root', sigstore.trustedRootPath, '--policy', policyFile], { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' });

describe('writes into a shared cache (item 5)', () => {
  it('refuses a blobs/<id>.incomplete planted as a link, and writes nothing through it', async () => {
    const cache = tempDir('kernelseal-cache-');
    const layers = readFileSync(join(unsignedVariant(), 'layers.py'));
    const blobId = createHash('sha1').update(`blob ${layers.length}\0`).update(layers).digest('hex');
    const victim = join(tempDir('kernelseal-victim-'), 'victim.txt');
    writeFileSync(victim, 'the victim file\n');
    mkdirSync(join(cache, REPO_FOLDER, 'blobs'), { recursive: true });
    symlinkSync(victim, join(cache, REPO_FOLDER, 'blobs', `${blobId}.incomplete`));
    await expect(load(cache).kernel).rejects.toThrow(`refusing ${join(cache, REPO_FOLDER, 'blobs', `${blobId}.incomplete`)}: a symbolic link`);
    expect(readFileSync(victim, 'utf8')).toBe('the victim file\n');
  });

  it('refuses a snapshot folder planted as a link out of the cache, and links nothing there', async () => {
    const cache = tempDir('kernelseal-cache-');
    const victimDir = tempDir('kernelseal-victim-');
    mkdirSync(join(victimDir, 'build', VARIANT), { recursive: true });
    writeFileSync(join(victimDir, 'build', VARIANT, 'layers.py'), 'the victim file\n');
    mkdirSync(join(cache, REPO_FOLDER, 'snapshots'), { recursive: true });
    symlinkSync(victimDir, join(cache, REPO_FOLDER, 'snapshots', commit));
    await expect(load(cache).kernel).rejects.toThrow(`refusing to write through ${join(cache, REPO_FOLDER, 'snapshots', commit)}: a symbolic link in the cache`);
    expect(lstatSync(join(victimDir, 'build', VARIANT, 'layers.py')).isFile()).toBe(true);
    expect(readdirSync(join(victimDir, 'build', VARIANT))).toEqual(['layers.py']);
  });

  it('refuses a refs/ folder planted as a link, and replaces (never follows) a planted refs/<revision> link', async () => {
    const cache = tempDir('kernelseal-cache-');
    const victimDir = tempDir('kernelseal-victim-');
    mkdirSync(join(cache, REPO_FOLDER), { recursive: true });
    symlinkSync(victimDir, join(cache, REPO_FOLDER, 'refs'));
    await expect(load(cache).kernel).rejects.toThrow(`refusing to write through ${join(cache, REPO_FOLDER, 'refs')}: a symbolic link in the cache`);
    expect(readdirSync(victimDir)).toEqual([]);

    rmSync(join(cache, REPO_FOLDER, 'refs'));
    mkdirSync(join(cache, REPO_FOLDER, 'refs'));
    const victim = join(victimDir, 'victim.txt');
    writeFileSync(victim, 'the victim file\n');
    symlinkSync(victim, join(cache, REPO_FOLDER, 'refs', 'v1'));
    expect((await load(cache).kernel).verified).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('the victim file\n');
    expect(lstatSync(join(cache, REPO_FOLDER, 'refs', 'v1')).isFile()).toBe(true);
    expect(readFileSync(join(cache, REPO_FOLDER, 'refs', 'v1'), 'utf8')).toBe(commit);
  });
});

describe('special files where a regular file is expected (item 6)', () => {
  it('does not block on a FIFO planted as refs/<revision>: offline fetch fails at once, naming it', async () => {
    const cache = tempDir('kernelseal-cache-');
    await load(cache).kernel;
    const ref = join(cache, REPO_FOLDER, 'refs', 'v1');
    rmSync(ref);
    mkfifo(ref);
    const run = offlineFetch(cache);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot use the cached ref v1: ${ref} is not a regular file`);
  });
});
