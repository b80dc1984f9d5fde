import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { signedRepository } from './helpers/signed-repo.ts';
import { mkfifo, tempDir } from './helpers/fs.js';
import { CLI, DIST, internal } from './helpers/package.js';
import { startAs } from './helpers/users.ts';
import { open } from 'node:fs/promises';
import { unsignedVariant } from './helpers/variant.js';

/**
 * SECURITY.md, "Attackers we design for": a shared Hugging Face cache that another local user
 * writes to, and a hostile Hub. Each attack names what it would have achieved; each refusal is asserted by reason.
 */
const ks = (await import(DIST)) as typeof import('../dist/index.js');
const { HubCache } = (await import(internal('kernels/hub/cache.js'))) as typeof import('../dist/kernels/hub/cache.js');
const keyFile = join(tempDir('kernelseal-state-'), 'receipt.key');
process.env.KERNELSEAL_RECEIPT_KEY_FILE = keyFile;

const REPO = 'kernels-test/relu';
const VARIANT = 'torch210-cxx11-cu128-x86_64-linux';
const REPO_FOLDER = 'kernels--kernels-test--relu';

const sigstore = withMockSigstore();
let hub: MockHub;
let policyFile: string;
let commit: string;

beforeAll(async () => {
  hub = await startMockHub([{ repoId: REPO, refs: { v1: await signedRepository(sigstore, REPO, [VARIANT]) } }]);
  commit = hub.commitOf(REPO, 'v1');
  policyFile = join(tempDir(), 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ github: { repository: REPO } }));
}, 120_000);
afterAll(async () => {
  await hub.close();
});

/** getKernel of the variant into `cacheDir`, collecting warnings. */
function load(cacheDir: string, extra: Record<string, unknown> = {}) {
  const warnings: string[] = [];
  const kernel = ks.getKernel(REPO, {
    endpoint: hub.url,
    cacheDir,
    policy: ks.githubWorkflowPolicy({ repository: REPO }),
    trustedRoot: sigstore.parsedRoot,
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

/** Where the blob of layers.py goes in `cache` (its Git blob ID, as the mock Hub lists it); makes blobs/. */
function layersBlob(cache: string): string {
  const layers = readFileSync(join(unsignedVariant(), 'layers.py'));
  mkdirSync(join(cache, REPO_FOLDER, 'blobs'), { recursive: true });
  return join(cache, REPO_FOLDER, 'blobs', createHash('sha1').update(`blob ${layers.length}\0`).update(layers).digest('hex'));
}

// Each user has a receipt of their own (src/kernels/hub/receipts.ts).
const receiptOf = (cache: string) => join(cache, REPO_FOLDER, '.kernelseal', 'receipts', commit, `${VARIANT}.${process.geteuid!()}.json`);

/** Same size, other content, as a cache writer can do to any blob. */
function tamperBlob(variantDir: string, file: string): void {
  const blob = resolve(variantDir, readlinkSync(join(variantDir, file)));
  const content = readFileSync(blob);
  content[0] ^= 1;
  writeFileSync(blob, content);
}

/** The fingerprint receipts record (src/kernels/hub/receipts.ts), as an attacker recomputes it after tampering. */
function currentFingerprint(variantDir: string, files: string[][]): string[][] {
  return files.map(([key]) => {
    const info = statSync(join(variantDir, key!), { bigint: true });
    return [key!, String(info.size), String(info.ino), String(info.mtimeNs), String(info.ctimeNs)];
  });
}

describe('receipts in a shared cache (item 4)', () => {
  it('trusts no receipt rewritten by a cache writer, online or offline: the tampered file is caught', async () => {
    const cache = tempDir('kernelseal-cache-');
    const first = await load(cache).kernel;
    expect(first.fromReceipt).toBe(false);
    expect((await load(cache, { offline: true }).kernel).fromReceipt).toBe(true); // a genuine receipt holds
    tamperBlob(first.path, 'layers.py');
    const genuine = JSON.parse(readFileSync(receiptOf(cache), 'utf8'));
    const files = currentFingerprint(first.path, genuine.files);
    const forgeries = {
      // What the unauthenticated receipt format said; the reader before this fix took it.
      'a receipt without a MAC': { version: 1, metadataSha256: genuine.metadataSha256, files },
      // The genuine receipt with the new fingerprint: its MAC no longer covers what it says.
      'a receipt with a copied MAC': { ...genuine, files },
    };
    for (const [what, forged] of Object.entries(forgeries)) {
      for (const offline of [true, false]) {
        writeFileSync(receiptOf(cache), JSON.stringify(forged));
        const error = await load(cache, { offline }).kernel.catch((e) => e);
        expect(error, `${what}, ${offline ? 'offline' : 'online'}`).toBeInstanceOf(ks.KernelRefusedError);
        expect(error.result.status).toBe('digest-mismatch');
        expect(error.result.violations.map(String)).toEqual([expect.stringMatching(/^File hash mismatch for layers\.py/)]);
      }
    }
  });

  it('creates its key outside the cache, 0600, and refuses a key file others could change or read', async () => {
    const cache = tempDir('kernelseal-cache-');
    await load(cache).kernel;
    expect(lstatSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(keyFile).size).toBe(32);
    expect(readdirSync(cache)).not.toContain('receipt.key');
    chmodSync(keyFile, 0o644);
    try {
      const { kernel, warnings } = load(cache, { offline: true });
      expect(await kernel).toMatchObject({ verified: true, fromReceipt: false }); // re-hashed, not trusted
      expect(warnings).toEqual([`the receipt key ${keyFile} has mode 644, not 600; receipts are not trusted, every load re-hashes`]);
    } finally {
      chmodSync(keyFile, 0o600);
    }
    const elsewhere = join(tempDir(), 'receipt.key');
    symlinkSync(keyFile, elsewhere);
    process.env.KERNELSEAL_RECEIPT_KEY_FILE = elsewhere;
    try {
      const { kernel, warnings } = load(cache, { offline: true });
      expect(await kernel).toMatchObject({ verified: true, fromReceipt: false });
      expect(warnings).toEqual([`the receipt key ${elsewhere} is a symbolic link; receipts are not trusted, every load re-hashes`]);
    } finally {
      process.env.KERNELSEAL_RECEIPT_KEY_FILE = keyFile;
    }
    expect((await load(cache, { offline: true }).kernel).fromReceipt).toBe(true); // the good key still works
  });

  it('does not block on a FIFO planted as the receipt: it is ignored, named, and the files re-hashed', async () => {
    const cache = tempDir('kernelseal-cache-');
    await load(cache).kernel;
    rmSync(receiptOf(cache));
    mkfifo(receiptOf(cache));
    const run = offlineFetch(cache);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`kernelseal: warning: ignoring the receipt: ${receiptOf(cache)} is not a regular file`);
  });
});

describe('writes into a shared cache (item 5)', () => {
  it('refuses a blobs/<id>.incomplete planted as a link, and writes nothing through it', async () => {
    const cache = tempDir('kernelseal-cache-');
    const victim = join(tempDir('kernelseal-victim-'), 'victim.txt');
    writeFileSync(victim, 'the victim file\n');
    const incomplete = `${layersBlob(cache)}.incomplete`;
    symlinkSync(victim, incomplete);
    await expect(load(cache).kernel).rejects.toThrow(`refusing ${incomplete}: a symbolic link`);
    expect(readFileSync(victim, 'utf8')).toBe('the victim file\n');
  });

  it('refuses a .locks folder planted as a link, and leaves no lock there', async () => {
    const cache = tempDir('kernelseal-cache-');
    const victimDir = tempDir('kernelseal-victim-');
    symlinkSync(victimDir, join(cache, '.locks'));
    await expect(load(cache).kernel).rejects.toThrow(`refusing to write through ${join(cache, '.locks')}: a symbolic link in the cache`);
    expect(readdirSync(victimDir)).toEqual([]);
  });

  it('records no receipt through a receipts folder planted as a link, and says so', async () => {
    const cache = tempDir('kernelseal-cache-');
    const victimDir = tempDir('kernelseal-victim-');
    const receipts = join(cache, REPO_FOLDER, '.kernelseal', 'receipts');
    mkdirSync(receipts, { recursive: true });
    symlinkSync(victimDir, join(receipts, commit));
    const { kernel, warnings } = load(cache);
    expect(await kernel).toMatchObject({ verified: true, fromReceipt: false }); // a receipt only saves a re-hash
    expect(warnings).toEqual([`no receipt recorded: refusing to write through ${join(receipts, commit)}: a symbolic link in the cache`]);
    expect(readdirSync(victimDir)).toEqual([]);
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
    chmodSync(victim, 0o4755); // set-uid: the mode of what the link points to must not carry over
    symlinkSync(victim, join(cache, REPO_FOLDER, 'refs', 'v1'));
    expect((await load(cache).kernel).verified).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('the victim file\n');
    expect(lstatSync(join(cache, REPO_FOLDER, 'refs', 'v1')).isFile()).toBe(true);
    expect(lstatSync(join(cache, REPO_FOLDER, 'refs', 'v1')).mode & 0o7777).toBe(0o644);
    expect(readFileSync(join(cache, REPO_FOLDER, 'refs', 'v1'), 'utf8')).toBe(commit);
  });
});

describe('a folder of the cache swapped for a link mid-load (each folder is checked once per load: src/fs/write-inside.ts)', () => {
  /** Loads one file at a time and, once the signed files and one more are placed, runs `swap`. */
  async function loadSwapping(cache: string, swap: () => void) {
    let swapped = false;
    const onProgress = ({ filesDone }: { filesDone: number }) => {
      if (swapped || filesDone < 3) return;
      swap();
      swapped = true;
    };
    const outcome = await load(cache, { concurrency: 1, onProgress }).kernel.then(() => undefined, (error: Error) => error);
    expect(swapped).toBe(true);
    return outcome;
  }

  it('blobs/: the rest is written into the folder that was checked, nothing through the link, and the load is refused', async () => {
    const cache = tempDir('kernelseal-cache-');
    const victimDir = tempDir('kernelseal-victim-');
    const blobs = join(cache, REPO_FOLDER, 'blobs');
    const outcome = await loadSwapping(cache, () => {
      renameSync(blobs, `${blobs}.moved`);
      symlinkSync(victimDir, blobs);
    });
    // The snapshot's links lead through the planted link now, to nothing: no kernel is handed back.
    expect(outcome).toMatchObject({ code: 'DANGLING_SYMLINK', reason: expect.stringContaining('../blobs/') });
    expect(readdirSync(victimDir)).toEqual([]);
    const files = readdirSync(unsignedVariant(), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    expect(readdirSync(`${blobs}.moved`)).toHaveLength(files.length + 1); // and metadata.json's signature
  });

  it('the snapshot folder: the rest is linked in the folder that was checked, nothing through the link, and the load is refused', async () => {
    const cache = tempDir('kernelseal-cache-');
    const victimDir = tempDir('kernelseal-victim-');
    mkdirSync(join(victimDir, 'build', VARIANT), { recursive: true });
    const snapshot = join(cache, REPO_FOLDER, 'snapshots', commit);
    const outcome = await loadSwapping(cache, () => {
      renameSync(snapshot, `${snapshot}.moved`);
      symlinkSync(victimDir, snapshot);
    });
    // What the load then reads through the link is the victim's empty folder: every file missing.
    expect(outcome).toMatchObject({ code: 'KERNEL_UNVERIFIED', result: { status: 'digest-mismatch', violations: expect.arrayContaining([expect.objectContaining({ kind: 'missing-file', path: 'layers.py' })]) } });
    expect(readdirSync(victimDir, { recursive: true })).toEqual(['build', join('build', VARIANT)]);
    expect(readdirSync(join(`${snapshot}.moved`, 'build', VARIANT))).toContain('layers.py');
  });
});

describe('writes while another user flips a folder between a directory and a link (renameat2 exchange)', () => {
  const EXCHANGE = fileURLToPath(new URL('./helpers/exchange-loop.py', import.meta.url));
  const TIMES = 200;

  /**
   * Runs `write` TIMES times, each with a fresh HubCache of `cacheDir` (which checks its folders
   * once, as a load does), while `folder` and a link beside it to a folder of the victim's (made
   * by `victim`) swap names without pause. Each write lands in the cache's folder or is refused
   * (a link, or not a folder, when it was opened), never through the link: the caller checks the
   * victim's folder. Returns it, and how many writes went through or were refused.
   */
  async function writeWhileFlipping(cacheDir: string, folder: string, victim: (dir: string) => void, write: (cache: InstanceType<typeof HubCache>, i: number) => Promise<void>) {
    const victimDir = tempDir('kernelseal-victim-');
    victim(victimDir);
    symlinkSync(victimDir, `${folder}.flip`);
    const flipper = startAs(undefined, 'python3', [EXCHANGE, folder, `${folder}.flip`]);
    const outcome = { victimDir, written: 0, refused: 0, exchanges: 0 };
    try {
      expect(await flipper.line()).toBe('exchanging');
      for (let i = 0; i < TIMES; i++) {
        const cache = new HubCache(cacheDir, REPO, 'kernel');
        try {
          await write(cache, i);
          outcome.written += 1;
        } catch (error) {
          expect((error as { code?: string }).code, String(error)).toMatch(/^(UNSAFE_PATH|ENOTDIR)$/);
          outcome.refused += 1;
        } finally {
          await cache.close();
        }
      }
    } finally {
      outcome.exchanges = Number(await flipper.end());
    }
    expect(outcome.exchanges).toBeGreaterThan(0);
    expect(lstatSync(folder).isDirectory()).toBe(true); // the names are back as they were
    return outcome;
  }

  it('refs/<revision> and its temporary file land in the cache or nowhere', async () => {
    const cacheDir = tempDir('kernelseal-cache-');
    const refs = join(cacheDir, REPO_FOLDER, 'refs');
    mkdirSync(refs, { recursive: true });
    const outcome = await writeWhileFlipping(cacheDir, refs, () => {}, (cache) => cache.writeRef('v1', commit));
    expect(readdirSync(outcome.victimDir)).toEqual([]);
    expect(outcome.written).toBeGreaterThan(0);
    expect(readdirSync(refs)).toEqual(['v1']); // no temporary file left behind
    expect(readFileSync(join(refs, 'v1'), 'utf8')).toBe(commit);
  });

  it('a receipt and its temporary file land in the cache or nowhere', async () => {
    const cacheDir = tempDir('kernelseal-cache-');
    const receipts = join(cacheDir, REPO_FOLDER, '.kernelseal', 'receipts', commit);
    mkdirSync(receipts, { recursive: true });
    const outcome = await writeWhileFlipping(cacheDir, receipts, () => {}, (cache) => cache.write(join(receipts, 'receipt.json'), '{}'));
    expect(readdirSync(outcome.victimDir)).toEqual([]);
    expect(readdirSync(receipts)).toEqual(['receipt.json']);
  });

  it("bytecode removed from a snapshot: the cache's, never the victim's of the same name", async () => {
    const cacheDir = tempDir('kernelseal-cache-');
    const variant = join(cacheDir, REPO_FOLDER, 'snapshots', commit, 'build', VARIANT);
    const relu = join(variant, 'relu');
    const pycache = (dir: string) => {
      for (let i = 0; i < TIMES; i++) writeTreeFile(join(dir, `__pycache__${i}`, 'layers.cpython-312.pyc'));
    };
    mkdirSync(relu, { recursive: true });
    pycache(relu);
    const outcome = await writeWhileFlipping(cacheDir, relu, pycache, (cache, i) => cache.removeBytecode(variant, [`relu/__pycache__${i}`]));
    expect(readdirSync(outcome.victimDir)).toHaveLength(TIMES); // every one of the victim's is still there, and its file
    expect(readdirSync(outcome.victimDir, { recursive: true }).filter((name) => String(name).endsWith('.pyc'))).toHaveLength(TIMES);
    expect(readdirSync(relu)).toHaveLength(outcome.refused); // the cache's, but for the refused removals
  });
});

/** Writes a small file at `path`, making its folders. */
function writeTreeFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, 'bytecode');
}

describe('the descriptors a load writes through, attacked', () => {
  it('resumes into no .incomplete file with another name: a hard link to a file of ours is refused, and the file left as it was', async () => {
    // Where fs.protected_hardlinks is off, another user may link any file of ours into the
    // cache; as root (or with it on) this test's user plays that part with a file of its own.
    const cache = tempDir('kernelseal-cache-');
    const victim = join(tempDir('kernelseal-victim-'), 'victim.txt');
    writeFileSync(victim, 'the victim file\n');
    const incomplete = `${layersBlob(cache)}.incomplete`;
    linkSync(victim, incomplete);
    await expect(load(cache).kernel).rejects.toThrow(`refusing ${incomplete}: a file with 2 names (a hard link)`);
    expect(readFileSync(victim, 'utf8')).toBe('the victim file\n');
  });

  it('names the paths of the cache, never /proc/self/fd, when a write through a descriptor fails', async () => {
    // A folder planted where a snapshot link goes: the link cannot replace it.
    const cache = tempDir('kernelseal-cache-');
    const link = join(cache, REPO_FOLDER, 'snapshots', commit, 'build', VARIANT, 'layers.py');
    mkdirSync(join(link, 'planted'), { recursive: true });
    const error = await load(cache).kernel.then(() => undefined, (e: Error & { dest?: string }) => e);
    expect(error).toMatchObject({ code: 'EISDIR', dest: link });
    expect(error!.message).toContain(`-> '${link}'`);
    expect(`${error!.message}${error!.stack}`).not.toContain('/proc/self/fd');
  });

  it('refuses files the signed digest does not list before downloading any: a listing of many folders makes none of them', async () => {
    // The Hub serves the signed variant plus files in folders of their own: each folder made
    // would be held open (one descriptor) until the load ends, and enough of them exhaust the
    // process's descriptors. The full check refuses such files anyway; the load refuses them first.
    const repoDir = await signedRepository(sigstore, REPO, [VARIANT]);
    const dir = join(repoDir, 'build', VARIANT);
    const extra = Array.from({ length: 20 }, (_, i) => `extra${i}/x.py`);
    for (const key of extra) {
      mkdirSync(join(dir, key, '..'), { recursive: true });
      writeFileSync(join(dir, key), 'print("unsigned")\n');
    }
    const hostile = await startMockHub([{ repoId: REPO, refs: { v1: repoDir } }]);
    try {
      const cache = tempDir('kernelseal-cache-');
      const error = await load(cache, { endpoint: hostile.url }).kernel.then(() => undefined, (e: InstanceType<typeof ks.KernelRefusedError>) => e);
      expect(error).toBeInstanceOf(ks.KernelRefusedError);
      expect(error!.result).toMatchObject({ status: 'digest-mismatch' });
      const violations = (error!.result as { violations: { kind: string; path: string }[] }).violations;
      expect(violations.map((v) => [v.kind, v.path]).sort()).toEqual(extra.map((key) => ['unknown-file', key]).sort());
      expect(hostile.requests.filter((r) => r.path.includes('/extra'))).toEqual([]);
      expect(readdirSync(join(cache, REPO_FOLDER, 'snapshots', hostile.commitOf(REPO, 'v1'), 'build', VARIANT))).toEqual(['metadata.json', 'metadata.json.sigstore']);
    } finally {
      await hostile.close();
    }
  });

  it('stops waiting for a lock another process holds when the load is aborted, and answers', async () => {
    // The load waits for every file under way before it closes its folders: a lock wait that
    // ignored the signal would hold it open for as long as the holder likes (a hang fails the
    // test by its timeout).
    const { addonFlock } = (await import(internal('fs/file-lock.js'))) as typeof import('../dist/fs/file-lock.js');
    const tryLock = addonFlock()!;
    const cache = tempDir('kernelseal-cache-');
    const id = layersBlob(cache).split('/').at(-1)!;
    mkdirSync(join(cache, '.locks', REPO_FOLDER), { recursive: true });
    const holder = await open(join(cache, '.locks', REPO_FOLDER, `${id}.lock`), 'w'); // its own open file: flock excludes ours
    try {
      expect(tryLock(holder.fd)).toBe(true);
      const stop = new AbortController();
      // Every file placed but the locked one: then the user gives up.
      const onProgress = ({ filesDone, filesTotal }: { filesDone: number; filesTotal: number }) => {
        if (filesDone === filesTotal - 1) stop.abort(new Error('given up'));
      };
      await expect(load(cache, { concurrency: 16, onProgress, signal: stop.signal }).kernel).rejects.toThrow('given up');
      expect(existsSync(`${join(cache, REPO_FOLDER, 'blobs', id)}.incomplete`)).toBe(false);
    } finally {
      await holder.close();
    }
  }, 30_000);
});

describe('special files where a regular file is expected (item 6)', () => {
  it('does not block on a FIFO planted as blobs/<id>.incomplete: the download is refused, naming it', async () => {
    const cache = tempDir('kernelseal-cache-');
    const incomplete = `${layersBlob(cache)}.incomplete`;
    mkfifo(incomplete);
    await expect(load(cache).kernel).rejects.toThrow(`refusing ${incomplete}: not a regular file`);
  });

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

  describe('kernelseal verify-bundle', () => {
    const dir = tempDir('kernelseal-verify-bundle-');
    const key = join(dir, 'cosign.pub');
    const artifact = join(dir, 'artifact.bin');
    const bundle = join(dir, 'artifact.sigstore.json');
    beforeAll(() => {
      writeFileSync(key, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
      writeFileSync(artifact, 'an artifact\n');
      writeFileSync(bundle, '{}');
    });
    const verify = (bundlePath: string, artifactPath: string) => runCliWithin(['verify-bundle', '--bundle', bundlePath, '--key', key, artifactPath]);

    it('refuses a FIFO given as the bundle, at once', () => {
      const fifo = join(dir, 'bundle.fifo');
      mkfifo(fifo);
      const run = verify(fifo, artifact);
      expect(run.signal).toBeNull();
      expect(run.code).toBe(1);
      expect(run.stdout).toBe(`❌ ${artifact}: invalid signature bundle: ${fifo} is not a regular file\n`);
    });

    it('refuses a FIFO given as the artifact, at once', () => {
      const fifo = join(dir, 'artifact.fifo');
      mkfifo(fifo);
      const run = verify(bundle, fifo);
      expect(run.signal).toBeNull();
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`cannot read the artifact ${fifo}: ${fifo} is not a regular file`);
    });

    it('refuses a bundle larger than 16 MiB without reading it', () => {
      const huge = join(dir, 'huge.sigstore.json');
      writeFileSync(huge, '');
      truncateSync(huge, 16 * 1024 * 1024 + 1); // sparse: nothing to read if it were read
      const run = verify(huge, artifact);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe(`❌ ${artifact}: invalid signature bundle: ${huge} is ${16 * 1024 * 1024 + 1} bytes, more than the ${16 * 1024 * 1024} allowed\n`);
    });
  });
});
