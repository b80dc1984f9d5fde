import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, internal } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

/**
 * src/hashing/stream-hasher.ts: large downloads are hashed on a worker thread (README.md,
 * Benchmarks: a first verified load against a plain download of the same bytes). The
 * worker must hash exactly the bytes given, in order, restart when told, and fail closed; a
 * large file fetched by getKernel must verify (or be refused by name) as an inline-hashed one.
 */
const ks = (await import(DIST)) as typeof import('../dist/index.js');
const { createStreamHasher, OFF_THREAD_BYTES } = (await import(internal('hashing/stream-hasher.js'))) as typeof import('../dist/hashing/stream-hasher.js');
process.env.KERNELSEAL_RECEIPT_KEY_FILE = join(tempDir('kernelseal-state-'), 'receipt.key');

const LARGE = OFF_THREAD_BYTES + 5 * 1024 * 1024 + 7; // not a whole number of batches
const hex = (digest: Uint8Array) => Buffer.from(digest).toString('hex');

/** Feeds `data` in uneven chunks (as a socket delivers it). */
async function feed(hasher: ReturnType<typeof createStreamHasher>, data: Buffer) {
  for (let offset = 0, step = 1; offset < data.length; offset += step, step = (step * 7 + 13) % 300_000 || 1) {
    await hasher.update(data.subarray(offset, offset + step));
  }
}

describe('a stream hashed off the main thread', () => {
  const data = randomBytes(LARGE);
  const header = `blob ${data.length}\0`;

  it('gives the digests node:crypto gives, for every part, headers included', async () => {
    const hasher = createStreamHasher([{ algorithm: 'sha1', header }, { algorithm: 'sha512' }], data.length);
    try {
      await feed(hasher, data);
      const [sha1, sha512] = await hasher.digest();
      expect(hex(sha1!)).toBe(createHash('sha1').update(header).update(data).digest('hex'));
      expect(hex(sha512!)).toBe(createHash('sha512').update(data).digest('hex'));
    } finally {
      await hasher.close();
    }
  });

  it('forgets what came before a restart (a server that sent the whole file again)', async () => {
    const hasher = createStreamHasher([{ algorithm: 'sha256' }], data.length);
    try {
      await feed(hasher, data.subarray(0, 9 * 1024 * 1024 + 3)); // whole batches sent, and one half filled
      hasher.restart();
      await feed(hasher, data);
      expect(hex((await hasher.digest())[0]!)).toBe(createHash('sha256').update(data).digest('hex'));
    } finally {
      await hasher.close();
    }
  });

  it('rejects the digest when the worker fails: nothing is accepted unhashed', async () => {
    const hasher = createStreamHasher([{ algorithm: 'no-such-hash' as 'sha256' }], data.length);
    try {
      const fed = feed(hasher, data).then(() => hasher.digest());
      await expect(fed).rejects.toThrow(/^hashing off the main thread failed: /);
    } finally {
      await hasher.close();
    }
  });
});

describe('getKernel of a variant with a file above the threshold', () => {
  const REPO = 'kernels-test/large';
  const GOOD = 'torch210-cxx11-cu128-x86_64-linux';
  const BAD = 'torch210-cxx11-cu126-x86_64-linux'; // weights.bin changed after signing
  const FILE = 'weights.bin';
  const sigstore = withMockSigstore();
  let repoDir: string;
  const hubs: MockHub[] = [];
  const hub = async (faults: Parameters<typeof startMockHub>[1] = {}) => {
    const h = await startMockHub([{ repoId: REPO, refs: { v1: repoDir } }], faults);
    hubs.push(h);
    return h;
  };
  const load = (h: MockHub, variant: string, cacheDir = tempDir('kernelseal-cache-')) => {
    let hashed = false;
    return ks
      .getKernel(REPO, { endpoint: h.url, cacheDir, policy: ks.githubWorkflowPolicy({ repository: REPO }), trustedRoot: sigstore.parsedRoot, version: 1, variant, attempts: 3, onWarning: () => {}, onHashProgress: () => void (hashed = true) })
      .then((kernel) => ({ kernel, hashed }));
  };

  beforeAll(async () => {
    repoDir = tempDir('kernelseal-hub-repo-');
    const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
    const weights = randomBytes(LARGE);
    for (const name of [GOOD, BAD]) {
      const dir = join(repoDir, 'build', name);
      cpSync(unsignedVariant('large'), dir, { recursive: true }); // named as its repository (getKernel checks)
      writeFileSync(join(dir, FILE), weights);
      await ks.signVariant(dir, { signer });
    }
    weights[LARGE - 1] ^= 1; // the last byte: in the last, partial batch
    writeFileSync(join(repoDir, 'build', BAD, FILE), weights);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(hubs.map((h) => h.close()));
  });

  it('verifies it as it streams in, without reading it again', async () => {
    expect(statSync(join(repoDir, 'build', GOOD, FILE)).size).toBeGreaterThan(OFF_THREAD_BYTES);
    const { kernel, hashed } = await load(await hub(), GOOD);
    expect(kernel).toMatchObject({ verified: true, fromReceipt: false });
    expect(hashed).toBe(false);
    expect(readFileSync(join(kernel.path, FILE)).equals(readFileSync(join(repoDir, 'build', GOOD, FILE)))).toBe(true);
  });

  it('refuses it by name when its bytes differ from the signed ones', async () => {
    const error = await load(await hub(), BAD).catch((e: unknown) => e as InstanceType<typeof ks.KernelRefusedError>);
    expect(error).toBeInstanceOf(ks.KernelRefusedError);
    const result = (error as InstanceType<typeof ks.KernelRefusedError>).result as { status: string; violations: unknown[] };
    expect(result.status).toBe('digest-mismatch');
    expect(result.violations.map(String)).toEqual([expect.stringMatching(/^File hash mismatch for weights\.bin: expected: \S+, got: \S+$/)]);
  });

  it('refuses it by name when the Hub serves other bytes than it lists', async () => {
    const h = await hub({ tamper: `build/${GOOD}/${FILE}` });
    await expect(load(h, GOOD)).rejects.toThrow(/weights\.bin: content does not match the LFS SHA-256 the Hub listed/);
  });

  it('resumes it after a dropped connection: the kept prefix is hashed again, in order', async () => {
    const cacheDir = tempDir('kernelseal-cache-');
    const content = readFileSync(join(repoDir, 'build', GOOD, FILE));
    const partial = join(cacheDir, 'kernels--kernels-test--large', 'blobs', `${createHash('sha256').update(content).digest('hex')}.incomplete`);
    const cut = 9 * 1024 * 1024 + 5;
    const untilSize = async (size: number) => {
      while ((existsSync(partial) ? statSync(partial).size : 0) < size) await new Promise((resolve) => setTimeout(resolve, 1));
    };
    const h = await hub({ drop: { path: `build/${GOOD}/${FILE}`, bytes: cut, times: 1, delivered: untilSize } });
    const { kernel, hashed } = await load(h, GOOD, cacheDir);
    expect(kernel.verified).toBe(true);
    expect(hashed).toBe(false);
    expect(h.requests.filter((r) => r.path.endsWith(FILE)).map((r) => r.range)).toEqual([undefined, `bytes=${cut}-`]);
  });
});
