import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { signedRepository } from './helpers/signed-repo.ts';
import { tempDir } from './helpers/fs.js';
import { DIST } from './helpers/package.js';
import { skipUnless } from './helpers/platform.js';

/**
 * A first load of many files places its blobs without an fsync each and writes them all out with
 * one syncfs (src/kernels/hub/cache.ts makeDurable, src/fs/sync-file-system.ts) before it records
 * the receipt that vouches for them; a load of a few files fsyncs each before placing it
 * (src/kernels/hub/fetch-files.ts SYNC_ONCE_FILES). Either way a receipt never outlives, across a
 * power loss, the bytes it names. Seen from outside, as the kernel sees the process: its system
 * calls, under strace.
 */
const REPO = 'kernels-test/relu';
/** The same kernel with 40 more files in its variant: a load of it places more than SYNC_ONCE_FILES. */
const MANY = 'kernels-many/relu';
const VARIANT = 'torch210-cxx11-cu128-x86_64-linux';

/** strace runs here, and may trace a child (no seccomp or ptrace ban in the way). */
const STRACE = process.platform === 'linux' && spawnSync('strace', ['-f', '-o', '/dev/null', 'true']).status === 0;
const NEEDS_STRACE = 'strace, allowed to trace a child (Linux)';

const sigstore = withMockSigstore();
let hub: MockHub;

beforeAll(async () => {
  hub = await startMockHub([
    { repoId: REPO, refs: { v1: await signedRepository(sigstore, REPO, [VARIANT]) } },
    { repoId: MANY, refs: { v1: await signedRepository(sigstore, MANY, [VARIANT], { extraFiles: 40 }) } },
  ]);
}, 120_000);
afterAll(() => hub?.close());

/** getKernel in a child under strace (its state, receipt key included, in `state`): what it says, and the calls that flush or place a file, in order, descriptors named (-y). */
async function tracedLoad(repo: string, cacheDir: string, state = tempDir('kernelseal-state-')): Promise<{ outcome: { verified: boolean; fromReceipt: boolean }; calls: string[] }> {
  const trace = join(tempDir('kernelseal-trace-'), 'calls');
  const script = `
    const ks = await import(${JSON.stringify(DIST)});
    const kernel = await ks.getKernel(${JSON.stringify(repo)}, {
      endpoint: ${JSON.stringify(hub.url)}, cacheDir: ${JSON.stringify(cacheDir)}, stateDir: ${JSON.stringify(state)},
      policy: ks.githubWorkflowPolicy({ repository: ${JSON.stringify(repo)} }),
      trustedRoot: ks.parseTrustedRoot(JSON.parse(process.env.TEST_TRUSTED_ROOT), 'mock'),
      version: 1, variant: ${JSON.stringify(VARIANT)}, onWarning: () => {},
    });
    console.log(JSON.stringify({ verified: kernel.verified, fromReceipt: kernel.fromReceipt }));`;
  // Not spawnSync: the mock Hub answers from this process's event loop.
  const child = spawn('strace', ['-f', '-qq', '-y', '-e', 'trace=syncfs,fsync,fdatasync,rename,renameat,renameat2', '-o', trace, process.execPath, '--input-type=module', '-e', script], {
    env: { ...process.env, KERNELSEAL_RECEIPT_KEY_FILE: join(state, 'receipt.key'), TEST_TRUSTED_ROOT: JSON.stringify(sigstore.trustedRoot) },
  });
  const run = { stdout: '', stderr: '', status: null as number | null };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk));
  run.status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (run.status !== 0) throw new Error(`the traced load exited ${run.status}: ${run.stderr}`);
  // strace -f interleaves threads: a call cut by another thread's is shown where it started,
  // with its arguments ("<unfinished ...>"), and ends on a line of its own ("<... resumed>").
  const calls = readFileSync(trace, 'utf8').split('\n').filter((line) => /\b(syncfs|fsync|fdatasync|rename|renameat2?)\(/.test(line));
  return { outcome: JSON.parse(run.stdout.trim().split('\n').at(-1)!), calls };
}

/** The calls that place a blob (its `.incomplete` file renamed), with their index in `calls`. */
const placements = (calls: string[]) => calls.map((line, index) => ({ line, index })).filter(({ line }) => /rename.*\.incomplete/.test(line));
const blobSyncs = (calls: string[]) => calls.filter((line) => /^\d+ +f(data)?sync\(.*\.incomplete/.test(line));
const fileSystemSyncs = (calls: string[]) => calls.flatMap((line, index) => (/^\d+ +syncfs\(/.test(line) ? [index] : []));

describe('a first load has what it placed on disk before its receipt', () => {
  it('of many files: places every blob with no fsync of its own, syncs the file system once, then records the receipt', async (ctx) => {
    skipUnless(ctx, STRACE, NEEDS_STRACE);
    const cacheDir = tempDir('kernelseal-cache-');
    const { outcome, calls } = await tracedLoad(MANY, cacheDir);
    expect(outcome).toEqual({ verified: true, fromReceipt: false });
    const placed = placements(calls);
    expect(placed.length).toBeGreaterThan(40); // metadata.json, its bundle, and the variant's files
    // The two signed files are fetched alone, before the rest: each fsynced as it is placed.
    expect(blobSyncs(calls)).toHaveLength(2);
    const syncs = fileSystemSyncs(calls);
    expect(syncs).toHaveLength(1);
    const receipt = calls.findIndex((line) => line.includes(`rename`) && line.includes(`${VARIANT}.${process.geteuid!()}.json`));
    expect(receipt).toBeGreaterThan(-1);
    expect(syncs[0]).toBeGreaterThan(placed.at(-1)!.index);
    expect(syncs[0]).toBeLessThan(receipt);
  });

  it('of a few files: fsyncs each blob before placing it, and syncs no whole file system', async (ctx) => {
    skipUnless(ctx, STRACE, NEEDS_STRACE);
    const { outcome, calls } = await tracedLoad(REPO, tempDir('kernelseal-cache-'));
    expect(outcome).toEqual({ verified: true, fromReceipt: false });
    const placed = placements(calls);
    expect(placed.length).toBeGreaterThan(3);
    expect(blobSyncs(calls)).toHaveLength(placed.length);
    expect(fileSystemSyncs(calls)).toEqual([]);
  });

  it('syncs nothing when it placed nothing: a second load from the receipt', async (ctx) => {
    skipUnless(ctx, STRACE, NEEDS_STRACE);
    const [cacheDir, state] = [tempDir('kernelseal-cache-'), tempDir('kernelseal-state-')];
    expect((await tracedLoad(MANY, cacheDir, state)).outcome).toEqual({ verified: true, fromReceipt: false });
    const second = await tracedLoad(MANY, cacheDir, state);
    expect(second.outcome).toEqual({ verified: true, fromReceipt: true });
    expect(second.calls.filter((line) => /syncfs\(/.test(line))).toEqual([]);
  });
});
