import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { pseudoRandomBytes, runNode, tempDir, writeTree } from './helpers/fs.js';
import { DIST, NATIVE_BACKEND } from './helpers/package.js';
import { notChecked, PROBES, PROC, skipUnless } from './helpers/platform.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

/**
 * Rounds of each scenario (every entry point, ended by `worker.terminate()` and by
 * `process.exit()` in the worker): 20 in CI, more by hand with KERNELSEAL_WORKER_ROUNDS.
 */
const ROUNDS = Number(process.env.KERNELSEAL_WORKER_ROUNDS ?? 20);
/**
 * How long the rounds may take before they count as hung. A worker starts in about half a
 * second on an idle machine and in several on a loaded one; six start per round, and eighteen
 * more time the calls first: 5 s each is far from any real run, and still ends a hang.
 */
const ROUNDS_DEADLINE_MS = 60_000 + (6 * ROUNDS + 19) * 5_000;

/** Runs a script in a child Node with the package imported as `m` and the addon as `addon`. */
function child(body: string, options: Parameters<typeof runNode>[1] = {}) {
  return runNode(`const m = await import(${JSON.stringify(DIST)}); const addon = (await import(${JSON.stringify(NATIVE_BACKEND)})).loadAddon();\n${PROBES}\n${body}`, { timeout: 600_000, ...options });
}

/**
 * The script of a worker that starts one addon call and says so; `exitAfter` ms later it calls
 * process.exit(). When the call ends first, it says how long the call took.
 */
const WORKER = `
  import { parentPort, workerData } from 'node:worker_threads';
  const { scenario, exitAfter, progress, dir, big, files, publicKey } = workerData;
  // The addon alone loads faster than the whole package, which verifyModel needs.
  const m = await import(scenario === 'verifyModel' ? workerData.dist : new URL('hashing/native/backend.js', workerData.dist).href);
  const addon = (await import(new URL('hashing/native/backend.js', workerData.dist).href)).loadAddon();
  const onProgress = progress ? () => {} : undefined;
  const calls = {
    hashVariant: () => addon.hashVariant('blake3', dir, onProgress),
    hashFile: () => addon.hashFile(big, 'sha512', onProgress),
    hashFiles: () => addon.hashFiles('sha256', files, 0, onProgress),
    hashFilesInShards: () => addon.hashFiles('blake3', files, 1 << 20, onProgress),
    walkTree: () => addon.walkTree(dir),
    verifyModel: () => m.verifyModel(dir, { key: publicKey, backend: m.createNativeBackend() }),
  };
  const started = performance.now();
  const pending = calls[scenario]();
  if (exitAfter !== undefined) setTimeout(() => process.exit(0), exitAfter);
  parentPort.postMessage('started');
  const result = await pending;
  if (scenario === 'verifyModel' && result.status !== 'verified') throw new Error(result.status);
  parentPort.postMessage({ doneAfterMs: performance.now() - started });`;

describe('worker threads that end while the addon works for them', () => {
  it(`survive ${ROUNDS} rounds of terminate() and process.exit() at random points, for every entry point, and leak nothing`, async () => {
    const dir = writeTree(tempDir(), {
      'big.bin': pseudoRandomBytes(32 * 1024 * 1024, 7),
      'a.py': 'a',
      'nested/b.so': pseudoRandomBytes(300_000, 8),
    });
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = { public: publicKey.export({ format: 'pem', type: 'spki' }).toString(), private: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
    await ks.signModel(dir, { signer: { method: 'key', privateKey: pem.private }, hashType: 'blake3', shardSize: 4 * 1024 * 1024 });
    const data = { dir, big: join(dir, 'big.bin'), files: ['big.bin', 'a.py', 'nested/b.so'].map((name) => join(dir, name)), publicKey: pem.public };

    const result = child(
      `
      const { Worker } = await import('node:worker_threads');
      const data = ${JSON.stringify(data)};
      const rounds = ${ROUNDS};
      // Seeded, so that a failing run can be replayed with KERNELSEAL_WORKER_SEED.
      const seed = Number(process.env.KERNELSEAL_WORKER_SEED ?? Date.now() % 2 ** 31);
      let x = seed || 1;
      const random = (n) => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % n; };
      const digest = async () => Buffer.from((await addon.hashVariant('blake3', data.dir)).digests).toString('hex');
      const reference = await digest(); // also starts the job threads and the rayon pool
      // How the worker ended, and how long its call ran when it finished.
      const run = (workerData) => new Promise((resolve) => {
        const worker = new Worker(${JSON.stringify(WORKER)}, { eval: true, workerData: { ...data, dist: ${JSON.stringify(DIST)}, ...workerData } });
        let ms;
        worker.on('message', (message) => {
          if (message.doneAfterMs !== undefined) ms = message.doneAfterMs;
          else if (workerData.terminateAfter !== undefined) setTimeout(() => worker.terminate(), workerData.terminateAfter);
        });
        worker.on('error', (error) => resolve({ ended: 'error: ' + error.message }));
        worker.on('exit', () => resolve({ ended: ms === undefined ? 'ended mid-call' : 'finished first', ms }));
      });
      // One worker to the end first: it starts the threads that stay (libuv's pool among them).
      if ((await run({ scenario: 'verifyModel' })).ended !== 'finished first') throw new Error('a worker left alone did not finish');
      globalThis.gc();
      const before = { threads: threads(), rss: process.memoryUsage.rss() };
      const outcomes = {};
      const scenarios = ['hashVariant', 'hashFile', 'hashFiles', 'hashFilesInShards', 'walkTree', 'verifyModel'];
      // The longest delay before a worker ends is as long as its call takes on this machine, now:
      // the median of three calls to the end. Loaded or fast, most rounds then end it mid-call.
      const longest = {};
      for (const scenario of scenarios) {
        const took = [];
        for (let i = 0; i < 3; i++) {
          const { ended, ms } = await run({ scenario });
          if (ended !== 'finished first') throw new Error(scenario + ' alone: ' + ended);
          took.push(ms);
        }
        longest[scenario] = Math.max(1, Math.ceil(took.sort((a, b) => a - b)[1]));
      }
      for (const scenario of scenarios) {
        for (let round = 0; round < rounds; round++) {
          const exits = round % 2 === 1;
          const delay = random(longest[scenario]);
          const { ended } = await run({ scenario, progress: round % 4 < 2, exitAfter: exits ? delay : undefined, terminateAfter: exits ? undefined : delay });
          const key = scenario + ' / ' + (exits ? 'process.exit' : 'terminate') + ': ' + ended;
          outcomes[key] = (outcomes[key] ?? 0) + 1;
        }
      }
      // Abandoned jobs are cancelled; their reader threads end with them.
      const deadline = performance.now() + 30_000;
      while (before.threads !== null && threads() > before.threads && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      globalThis.gc();
      const after = { threads: threads(), rss: process.memoryUsage.rss() };
      console.log(JSON.stringify({ seed, longest, outcomes, threadsBefore: before.threads, threadsAfter: after.threads, growthMiB: (after.rss - before.rss) / 2 ** 20, stillWorks: (await digest()) === reference }));
    `,
      { execArgv: ['--expose-gc'], timeout: ROUNDS_DEADLINE_MS },
    );
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    if (process.env.KERNELSEAL_WORKER_ROUNDS) console.log(`RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS ?? '(cores)'}: ${result.stdout}`);
    const total = (filter: (key: string) => boolean) => Object.entries(report.outcomes as Record<string, number>).filter(([key]) => filter(key)).reduce((sum, [, n]) => sum + n, 0);
    expect(total(() => true), JSON.stringify(report)).toBe(6 * ROUNDS);
    expect(total((key) => key.includes('error')), JSON.stringify(report)).toBe(0);
    // Most rounds end while the addon is still at work: the case that used to abort.
    expect(total((key) => key.endsWith('ended mid-call')), JSON.stringify(report)).toBeGreaterThan(ROUNDS);
    expect(report.stillWorks).toBe(true);
    if (report.threadsBefore === null) notChecked('no thread left behind', 'threads are counted in /proc/self/status (Linux)');
    else expect(report.threadsAfter, JSON.stringify(report)).toBe(report.threadsBefore);
    expect(report.growthMiB).toBeLessThan(64);
  }, ROUNDS_DEADLINE_MS + 30_000); // the child's own deadline ends it first

  it('cancels the jobs of a terminated worker: the job threads are free again after a few chunks', (ctx) => {
    skipUnless(ctx, PROC, 'the bytes the jobs read are counted in /proc/self/io (Linux)');
    const dir = tempDir();
    const big = join(dir, 'big.bin');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 4 * 1024 * 1024 * 1024); // sparse: 4 GiB to read, no disk used
    closeSync(fd);
    const result = child(`
      const { Worker } = await import('node:worker_threads');
      const { readFileSync } = await import('node:fs');
      const bytesRead = () => Number(/rchar:\\s+(\\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
      // As many workers as job threads (crates/addon/src/job_queue.rs), each hashing 4 GiB, ended once all hash.
      const workers = Array.from({ length: 4 }, () => new Worker(\`
        import { parentPort, workerData } from 'node:worker_threads';
        const addon = (await import(new URL('hashing/native/backend.js', workerData.dist).href)).loadAddon();
        let told = false;
        addon.hashFile(workerData.big, 'sha512', () => { if (!told) parentPort.postMessage('hashing'); told = true; });\`,
        { eval: true, workerData: { dist: ${JSON.stringify(DIST)}, big: ${JSON.stringify(big)} } }));
      await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))));
      await Promise.all(workers.map((worker) => worker.terminate()));
      const before = bytesRead();
      // Runs only once a job thread is free: after a cancelled job, or after 4 GiB read.
      await addon.hashFile(${JSON.stringify(big)}, 'sha256', undefined, (() => { const t = addon.createCancelToken(); addon.cancel(t); return t; })()).catch(() => {});
      console.log(JSON.stringify({ readMiB: (bytesRead() - before) / 2 ** 20 }));
    `);
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe('');
    // Four jobs that ran on would read 4 GiB each before the call above could start.
    expect(JSON.parse(result.stdout).readMiB).toBeLessThan(1024);
  });
});
