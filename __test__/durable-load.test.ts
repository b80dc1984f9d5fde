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
 * (SYNC_ONCE_FILES in src/kernels/hub/cache.ts). Either way a receipt never outlives, across a
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

/** What a traced load said: the kernel's flags, or the name of the error it stopped with. */
type Outcome = { verified: boolean; fromReceipt: boolean } | { error: string };

/**
 * getKernel in a child under strace (its state, receipt key included, in `state`; aborted once
 * `abortAfterFiles` files are fetched): what it says, and the calls that flush or place a file,
 * in order, descriptors named (-y).
 */
async function tracedLoad(repo: string, cacheDir: string, { state = tempDir('kernelseal-state-'), abortAfterFiles }: { state?: string; abortAfterFiles?: number } = {}): Promise<{ outcome: Outcome; calls: string[] }> {
  const trace = join(tempDir('kernelseal-trace-'), 'calls');
  const script = `
    const ks = await import(${JSON.stringify(DIST)});
    const stop = new AbortController();
    try {
      const kernel = await ks.getKernel(${JSON.stringify(repo)}, {
        endpoint: ${JSON.stringify(hub.url)}, cacheDir: ${JSON.stringify(cacheDir)}, stateDir: ${JSON.stringify(state)},
        policy: ks.githubWorkflowPolicy({ repository: ${JSON.stringify(repo)} }),
        trustedRoot: ks.parseTrustedRoot(JSON.parse(process.env.TEST_TRUSTED_ROOT), 'mock'),
        version: 1, variant: ${JSON.stringify(VARIANT)}, onWarning: () => {}, signal: stop.signal,
        onProgress: (p) => { if (p.filesDone >= ${abortAfterFiles ?? Infinity}) stop.abort(new Error('stopped by the test')); },
      });
      console.log(JSON.stringify({ verified: kernel.verified, fromReceipt: kernel.fromReceipt }));
    } catch (error) {
      if (!stop.signal.aborted) throw error;
      console.log(JSON.stringify({ error: error.message }));
    }`;
  // Not spawnSync: the mock Hub answers from this process's event loop.
  const child = spawn('strace', ['-f', '-qq', '-y', '-e', 'trace=syncfs,fsync,fdatasync,rename,renameat,renameat2', '-o', trace, process.execPath, '--input-type=module', '-e', script], {
    env: { ...process.env, KERNELSEAL_RECEIPT_KEY_FILE: join(state, 'receipt.key'), TEST_TRUSTED_ROOT: JSON.stringify(sigstore.trustedRoot) },
  });
  const run = { stdout: '', stderr: '', status: null as number | null };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk));
  run.status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (run.status !== 0) throw new Error(`the traced load exited ${run.status}: ${run.stderr}`);
  const calls = readFileSync(trace, 'utf8').split('\n').filter((line) => CALL.test(line) || RESUMED.test(line));
  return { outcome: JSON.parse(run.stdout.trim().split('\n').at(-1)!), calls };
}

// strace -f interleaves threads: a call cut by another thread's is shown where it started, with
// its arguments ("<unfinished ...>"), and ends on a line of its own ("<... name resumed>) = result").
const CALL = /^(\d+) +(syncfs|fsync|fdatasync|rename|renameat2?)\(/;
const RESUMED = /^(\d+) +<\.\.\. (\w+) resumed>.*= (-?\d+)/;

/** Each call matching `name` and `args`: where it started, where it ended, and what it returned. */
function callsOf(calls: string[], name: RegExp, args: RegExp = /./): Array<{ start: number; end: number; result: number; line: string }> {
  const found = [];
  for (const [start, line] of calls.entries()) {
    const call = CALL.exec(line);
    if (!call || !name.test(call[2]!) || !args.test(line)) continue;
    let end = start;
    let result = /= (-?\d+)/.exec(line)?.[1];
    if (line.includes('<unfinished ...>')) {
      end = calls.findIndex((other, index) => index > start && RESUMED.exec(other)?.[1] === call[1] && RESUMED.exec(other)?.[2] === call[2]);
      result = end === -1 ? undefined : RESUMED.exec(calls[end]!)![3];
    }
    found.push({ start, end, result: Number(result ?? NaN), line });
  }
  return found;
}

/** The blob a call names (its `.incomplete` file), by its object ID. */
const blobOf = (line: string) => /([0-9a-f]{40,64})\.incomplete/.exec(line)?.[1];
/** Each blob placed: its `.incomplete` file renamed to its name. */
const placements = (calls: string[]) => callsOf(calls, /^rename/, /\.incomplete/);
const blobSyncs = (calls: string[]) => callsOf(calls, /^f(data)?sync$/, /\.incomplete/);
/** Each syncfs, which must go through the cache's blobs folder and succeed. */
const fileSystemSyncs = (calls: string[]) => callsOf(calls, /^syncfs$/);
const receiptWrites = (calls: string[]) => callsOf(calls, /^rename/, new RegExp(`${VARIANT}\\.${process.geteuid!()}\\.json`));

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
    expect(syncs[0]!.line).toMatch(/syncfs\(\d+<.*\/blobs>/); // through the cache's blobs folder
    expect(syncs[0]!.result).toBe(0);
    const [receipt] = receiptWrites(calls);
    expect(receipt).toBeDefined();
    expect(syncs[0]!.start).toBeGreaterThan(Math.max(...placed.map((p) => p.end)));
    expect(syncs[0]!.end).toBeLessThan(receipt!.start); // done, not only begun, before the receipt
  });

  it('of a few files: fsyncs each blob before placing it, and syncs no whole file system', async (ctx) => {
    skipUnless(ctx, STRACE, NEEDS_STRACE);
    const { outcome, calls } = await tracedLoad(REPO, tempDir('kernelseal-cache-'));
    expect(outcome).toEqual({ verified: true, fromReceipt: false });
    const placed = placements(calls);
    expect(placed.length).toBeGreaterThan(3);
    const syncs = blobSyncs(calls);
    for (const place of placed) {
      const sync = syncs.find((s) => blobOf(s.line) === blobOf(place.line));
      expect(sync, `no fsync of ${blobOf(place.line)}`).toBeDefined();
      expect(sync!.result).toBe(0);
      expect(sync!.end).toBeLessThan(place.start);
    }
    expect(fileSystemSyncs(calls)).toEqual([]);
  });

  it('after a load stopped midway, the next load syncs what it left before the receipt, though it places fewer files than a sync at once needs', async (ctx) => {
    skipUnless(ctx, STRACE, NEEDS_STRACE);
    const [cacheDir, state] = [tempDir('kernelseal-cache-'), tempDir('kernelseal-state-')];
    const stopped = await tracedLoad(MANY, cacheDir, { state, abortAfterFiles: 20 });
    expect(stopped.outcome).toEqual({ error: 'stopped by the test' });
    expect(fileSystemSyncs(stopped.calls)).toEqual([]); // it ended before stage 7
    const next = await tracedLoad(MANY, cacheDir, { state });
    expect(next.outcome).toEqual({ verified: true, fromReceipt: false });
    const placed = placements(next.calls);
    expect(placed.length).toBeGreaterThan(0);
    expect(placed.length).toBeLessThan(32); // each fsynced alone: nothing of its own to sync at once
    const syncs = fileSystemSyncs(next.calls);
    expect(syncs).toHaveLength(1);
    expect(syncs[0]!.end).toBeLessThan(receiptWrites(next.calls)[0]!.start);
  });

  it('syncs nothing when it placed nothing: a second load from the receipt', async (ctx) => {
    skipUnless(ctx, STRACE, NEEDS_STRACE);
    const [cacheDir, state] = [tempDir('kernelseal-cache-'), tempDir('kernelseal-state-')];
    expect((await tracedLoad(MANY, cacheDir, { state })).outcome).toEqual({ verified: true, fromReceipt: false });
    const second = await tracedLoad(MANY, cacheDir, { state });
    expect(second.outcome).toEqual({ verified: true, fromReceipt: true });
    expect(fileSystemSyncs(second.calls)).toEqual([]);
  });
});
