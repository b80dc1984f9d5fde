import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

/**
 * getKernel hashes each file as it streams to disk and checks it against the signed digest
 * before placing it, so a first load reads nothing twice (SECURITY.md, the choices that follow
 * from the attackers we design for). These tests play the attacks on that path: a bad file from
 * the Hub, and a cache writer who swaps or loosens a blob between the hashing and its use. Each
 * must be refused by name, or fall back to the full verification (seen here as hashing
 * progress, which the streamed path never reports).
 */
const ks = (await import(DIST)) as typeof import('../dist/index.js');
process.env.KERNELSEAL_RECEIPT_KEY_FILE = join(tempDir('kernelseal-state-'), 'receipt.key');

const REPO = 'kernels-test/relu';
const GOOD = 'torch210-cxx11-cu128-x86_64-linux';
const BAD = 'torch210-cxx11-cu126-x86_64-linux'; // _ops.py changed after signing, listed as served
const EXTRA = 'torch210-cxx11-cu130-x86_64-linux'; // a file added after signing
const REPO_FOLDER = 'kernels--kernels-test--relu';

const sigstore = withMockSigstore();
let hub: MockHub;
let repoDir: string;

beforeAll(async () => {
  repoDir = tempDir('kernelseal-hub-repo-');
  const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
  for (const name of [GOOD, BAD, EXTRA]) {
    const dir = join(repoDir, 'build', name);
    cpSync(unsignedVariant(), dir, { recursive: true });
    await ks.signVariant(dir, { signer });
  }
  writeFileSync(join(repoDir, 'build', BAD, '_ops.py'), 'import os  # changed after signing\n');
  writeFileSync(join(repoDir, 'build', EXTRA, 'extra.py'), 'print("not signed")\n');
  hub = await startMockHub([{ repoId: REPO, refs: { v1: repoDir } }]);
}, 120_000);
afterAll(async () => {
  await hub.close();
});

/** The blob name the cache gives a file of a variant (src/kernels/hub/cache.ts: LFS SHA-256, else Git blob ID; the mock Hub's LFS threshold is 64 KiB). */
function blobName(variant: string, file: string): string {
  const content = readFileSync(join(repoDir, 'build', variant, file));
  if (content.length >= 64 * 1024) return createHash('sha256').update(content).digest('hex');
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/**
 * getKernel of `variant` into a fresh cache, one file at a time, counting hashing progress
 * (reported only by the full verification). `onWritten` runs on each chunk written, before the
 * downloader goes on: where a cache writer acting between the write and the rename strikes.
 */
async function load(variant: string, onWritten?: (blobs: string) => void) {
  const cacheDir = tempDir('kernelseal-cache-');
  const blobs = join(cacheDir, REPO_FOLDER, 'blobs');
  let hashProgress = 0;
  const kernel = ks
    .getKernel(REPO, {
      endpoint: hub.url,
      cacheDir,
      policy: ks.githubWorkflowPolicy({ repository: REPO }),
      trustedRoot: sigstore.parsedRoot,
      version: 1,
      variant,
      concurrency: 1,
      onWarning: () => {},
      onProgress: () => onWritten?.(blobs),
      onHashProgress: () => void (hashProgress += 1),
    })
    .catch((error: unknown) => error as InstanceType<typeof ks.KernelRefusedError>);
  return { result: await kernel, blobs, cacheDir, hashed: () => hashProgress > 0 };
}

describe('verification as the files stream in', () => {
  it('verifies a first load without reading the files again, and the receipt it writes serves the next load', async () => {
    const first = await load(GOOD);
    expect(first.result).toMatchObject({ verified: true, fromReceipt: false });
    expect(first.hashed()).toBe(false);
    const kernel = first.result as Awaited<ReturnType<typeof ks.getKernel>>;
    // Every placed blob is ours, private to write, and the snapshot links to it.
    for (const name of ['_ops.py', 'layers.py', '_relu_cuda_6a1b2c3.abi3.so', 'kernels/relu_sm80.cubin']) {
      const info = statSync(join(kernel.path, name));
      expect(info.mode & 0o022, name).toBe(0);
      expect(lstatSync(join(first.blobs, blobName(GOOD, name))).ino).toBe(info.ino);
    }
    expect(readdirSync(first.blobs).filter((name) => name.endsWith('.incomplete'))).toEqual([]);
    const again = await ks.getKernel(REPO, { endpoint: hub.url, cacheDir: first.cacheDir, policy: ks.githubWorkflowPolicy({ repository: REPO }), trustedRoot: sigstore.parsedRoot, version: 1, variant: GOOD, offline: true });
    expect(again.fromReceipt).toBe(true);
  });

  it('refuses a file the Hub serves (and lists) with other bytes than signed, naming it, and never places it', async () => {
    const { result, blobs, cacheDir } = await load(BAD);
    expect(result).toBeInstanceOf(ks.KernelRefusedError);
    const refused = result as InstanceType<typeof ks.KernelRefusedError>;
    expect(refused.result?.status).toBe('digest-mismatch');
    expect((refused.result as { violations: unknown[] }).violations.map(String)).toEqual([expect.stringMatching(/^File hash mismatch for _ops\.py: expected: \S+, got: \S+$/)]);
    const bad = blobName(BAD, '_ops.py');
    expect(readdirSync(blobs).filter((name) => name.startsWith(bad))).toEqual([]); // neither placed nor kept to resume
    expect(existsSync(join(cacheDir, REPO_FOLDER, 'snapshots', hub.commitOf(REPO, 'v1'), 'build', BAD, '_ops.py'))).toBe(false);
  });

  it('refuses a file the Hub lists beyond the signed digest by name, as the full check would, before downloading anything more', async () => {
    const before = hub.requests.length;
    const { result, hashed, cacheDir } = await load(EXTRA);
    expect(result).toBeInstanceOf(ks.KernelRefusedError);
    expect((result as InstanceType<typeof ks.KernelRefusedError>).result).toMatchObject({ status: 'digest-mismatch' });
    expect(((result as InstanceType<typeof ks.KernelRefusedError>).result as { violations: unknown[] }).violations.map(String)).toEqual(['Unknown file: extra.py']);
    expect(hashed()).toBe(false);
    // Only the signed files were fetched (src/kernels/hub/fetch-files.ts fetchSignedFiles).
    expect(hub.requests.slice(before).filter((r) => r.path.includes('/resolve/')).map((r) => r.path.split('/').at(-1)).sort()).toEqual(['metadata.json', 'metadata.json.sigstore']);
    expect(existsSync(join(cacheDir, REPO_FOLDER, 'snapshots', hub.commitOf(REPO, 'v1'), 'build', EXTRA, 'extra.py'))).toBe(false);
  });

  /** Swaps the downloaded layers.py for `content` once it is fully written, before it is checked and renamed. */
  const swapLayers = (content: (good: Buffer) => Buffer) => {
    let swapped = false;
    const good = readFileSync(join(repoDir, 'build', GOOD, 'layers.py'));
    const onWritten = (blobs: string) => {
      const incomplete = join(blobs, `${blobName(GOOD, 'layers.py')}.incomplete`);
      if (swapped || !existsSync(incomplete) || statSync(incomplete).size !== good.length) return;
      writeFileSync(join(blobs, 'planted'), content(good));
      renameSync(join(blobs, 'planted'), incomplete);
      swapped = true;
    };
    return { onWritten, swapped: () => swapped };
  };

  it('a blob swapped between its write and its rename is caught by the full check: other bytes are refused by name', async () => {
    const attack = swapLayers((good) => Buffer.from(good.map((byte, i) => (i === 0 ? byte ^ 1 : byte))));
    const { result, hashed } = await load(GOOD, attack.onWritten);
    expect(attack.swapped()).toBe(true);
    expect(hashed()).toBe(true);
    expect(result).toBeInstanceOf(ks.KernelRefusedError);
    expect(((result as InstanceType<typeof ks.KernelRefusedError>).result as { violations: unknown[] }).violations.map(String)).toEqual([expect.stringMatching(/^File hash mismatch for layers\.py/)]);
  });

  it('a blob swapped for another file with the same bytes is no longer the one hashed: verified, but by the full check', async () => {
    const attack = swapLayers((good) => good);
    const { result, hashed } = await load(GOOD, attack.onWritten);
    expect(attack.swapped()).toBe(true);
    expect(result).toMatchObject({ verified: true });
    expect(hashed()).toBe(true);
  });

  /**
   * Changes the downloaded layers.py once it is fully written, before it is checked and renamed
   * into place: what the placed blob's stats then show is what it was placed as, so only the
   * rule for whose files a hash may vouch (src/kernels/hub/sole-writer.ts) can refuse it.
   */
  const changeIncomplete = (change: (incomplete: string) => void) => {
    let changed = false;
    const size = readFileSync(join(repoDir, 'build', GOOD, 'layers.py')).length;
    const onWritten = (blobs: string) => {
      const incomplete = join(blobs, `${blobName(GOOD, 'layers.py')}.incomplete`);
      if (changed || !existsSync(incomplete) || statSync(incomplete).size !== size) return;
      change(incomplete);
      changed = true;
    };
    return { onWritten, changed: () => changed };
  };

  it.each([
    ['writable by others', (incomplete: string) => chmodSync(incomplete, 0o646)],
    ['writable by its group', (incomplete: string) => chmodSync(incomplete, 0o664)],
    ['given a second name', (incomplete: string) => linkSync(incomplete, join(tempDir('kernelseal-elsewhere-'), 'second-name'))],
  ])('a blob %s before it is placed is not vouched for by its streamed hash: the full check reads it', async (_what, change) => {
    const attack = changeIncomplete(change);
    const { result, hashed } = await load(GOOD, attack.onWritten);
    expect(attack.changed()).toBe(true);
    expect(result).toMatchObject({ verified: true, fromReceipt: false });
    expect(hashed()).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)('a blob handed to another owner before it is placed is not vouched for by its streamed hash (as root)', async () => {
    const attack = changeIncomplete((incomplete) => chownSync(incomplete, 65534, 65534));
    const { result, hashed } = await load(GOOD, attack.onWritten);
    expect(attack.changed()).toBe(true);
    expect(result).toMatchObject({ verified: true, fromReceipt: false });
    expect(hashed()).toBe(true);
  });

  /** Loosens the first placed blob of the variant's files once a later one is being written. */
  const loosen = (change: (blob: string) => void) => {
    let changed: string | undefined;
    const names = ['__init__.py', '_ops.py', 'layers.py', 'relu/__init__.py', '_relu_cuda_6a1b2c3.abi3.so', 'kernels/relu_sm80.cubin'].map((file) => blobName(GOOD, file));
    const onWritten = (blobs: string) => {
      if (changed) return;
      const placed = names.find((name) => existsSync(join(blobs, name)));
      if (!placed) return;
      change(join(blobs, placed));
      changed = placed;
    };
    return { onWritten, changed: () => changed };
  };

  it('a placed blob made writable by others falls back to the full check', async () => {
    const attack = loosen((blob) => chmodSync(blob, 0o666));
    const { result, hashed } = await load(GOOD, attack.onWritten);
    expect(attack.changed()).toBeDefined();
    expect(result).toMatchObject({ verified: true, fromReceipt: false });
    expect(hashed()).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)('a placed blob handed to another owner falls back to the full check (as root)', async () => {
    const attack = loosen((blob) => chownSync(blob, 65534, 65534));
    const { result, hashed } = await load(GOOD, attack.onWritten);
    expect(attack.changed()).toBeDefined();
    expect(result).toMatchObject({ verified: true, fromReceipt: false });
    expect(hashed()).toBe(true);
  });

  it('a blob already in the cache, planted before the load, is not trusted: the full check refuses its bytes', async () => {
    const cacheDir = tempDir('kernelseal-cache-');
    const blobs = join(cacheDir, REPO_FOLDER, 'blobs');
    const good = readFileSync(join(repoDir, 'build', GOOD, 'layers.py'));
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(blobs, blobName(GOOD, 'layers.py')), Buffer.from(good.map((byte, i) => (i === 0 ? byte ^ 1 : byte))));
    const error = await ks
      .getKernel(REPO, { endpoint: hub.url, cacheDir, policy: ks.githubWorkflowPolicy({ repository: REPO }), trustedRoot: sigstore.parsedRoot, version: 1, variant: GOOD, onWarning: () => {} })
      .catch((e: unknown) => e as InstanceType<typeof ks.KernelRefusedError>);
    expect(error).toBeInstanceOf(ks.KernelRefusedError);
    expect(((error as InstanceType<typeof ks.KernelRefusedError>).result as { violations: unknown[] }).violations.map(String)).toEqual([expect.stringMatching(/^File hash mismatch for layers\.py/)]);
  });
});
