import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { pseudoRandomBytes, runNode, tempDir, writeTree } from './helpers/fs.js';
import { DIST, NATIVE_BACKEND, testHooksAddonExpression } from './helpers/package.js';
import { MAPPED_READS, notChecked, PROBES, skipUnless } from './helpers/platform.js';

/** Runs a script in a child Node with the package imported as `m` and the addon as `addon`. */
function child(body: string, options: Parameters<typeof runNode>[1] = {}) {
  return runNode(`const m = await import(${JSON.stringify(DIST)}); const addon = (await import(${JSON.stringify(NATIVE_BACKEND)})).loadAddon();\n${PROBES}\n${body}`, { timeout: 120_000, ...options });
}

describe('the addon under stress', () => {
  it('loads in several worker threads at once and gives the same digests', () => {
    const dir = writeTree(tempDir(), { 'a.so': pseudoRandomBytes(5_000_000, 1), 'b.py': 'b' });
    const result = child(`
      const { Worker } = await import('node:worker_threads');
      const source = \`
        import { parentPort, workerData } from 'node:worker_threads';
        const m = await import(workerData.dist);
        const { digests } = await m.createNativeBackend().hashVariant('sha512', workerData.dir);
        parentPort.postMessage(Buffer.from(digests).toString('hex'));\`;
      const digests = await Promise.all(Array.from({ length: 6 }, () => new Promise((resolve, reject) => {
        const worker = new Worker(source, { eval: true, workerData: { dist: ${JSON.stringify(DIST)}, dir: ${JSON.stringify(dir)} } });
        worker.once('message', resolve);
        worker.once('error', reject);
      })));
      const reference = Buffer.from((await m.createNativeBackend().hashVariant('sha512', ${JSON.stringify(dir)})).digests).toString('hex');
      console.log(JSON.stringify({ same: digests.every((d) => d === reference), count: digests.length }));
    `);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ same: true, count: 6 });
  });

  describe('BLAKE3 on many rayon threads', () => {
    // More pieces than threads, many of them large enough for the pipelined read whose chunks
    // BLAKE3 spreads over the pool: a thread waiting inside one piece starts another.
    const dir = writeTree(tempDir(), {
      ...Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`big${i}.bin`, pseudoRandomBytes(34 * 1024 * 1024 + i, i + 1)])),
      ...Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`small/${i}.py`, pseudoRandomBytes(5000 + i, i + 9)])),
    });
    const paths = [...Array.from({ length: 3 }, (_, i) => `big${i}.bin`), ...Array.from({ length: 48 }, (_, i) => `small/${i}.py`)].map((name) => join(dir, name));
    /** Ten rounds of sharded hashFiles and hashVariant in a child with `threads` rayon threads. */
    const rounds = (threads: string) => {
      const result = child(
        `
        const native = m.createNativeBackend();
        const hex = (r) => Buffer.from(r.digests).toString('hex');
        const rounds = [];
        for (let round = 0; round < 10; round++) {
          const shards = await native.hashFiles('blake3', ${JSON.stringify(paths)}, { shardSize: 16 * 1024 * 1024 }).then(hex, (e) => e.message);
          const variant = await native.hashVariant('blake3', ${JSON.stringify(dir)}).then(hex, (e) => e.message);
          rounds.push({ shards, variant });
        }
        console.log(JSON.stringify({ threads: addon.engineInfo().threads, rounds }));
      `,
        { env: { RAYON_NUM_THREADS: threads } },
      );
      expect(result.stderr).toBe('');
      const report = JSON.parse(result.stdout);
      expect(report.threads).toBe(Number(threads));
      return report.rounds;
    };

    it.each(['16', '64'])('hashes every round on %s threads as on one thread (no pipeline, no interleaving)', (threads) => {
      const [reference] = rounds('1');
      expect(rounds(threads)).toEqual(Array.from({ length: 10 }, () => reference));
    });
  });

  it('10,000 calls leave memory flat', () => {
    const dir = writeTree(tempDir(), { 'a.py': 'x'.repeat(4096), 'b/c.py': 'y' });
    const result = child(
      `
      const native = m.createNativeBackend();
      const round = async () => { for (let i = 0; i < 100; i++) await Promise.all(Array.from({ length: 50 }, () => native.hashVariant('sha256', ${JSON.stringify(dir)}))); };
      await round(); globalThis.gc(); // warm up: 5,000 calls
      const before = process.memoryUsage.rss();
      await round(); await round(); globalThis.gc(); // 10,000 more
      console.log(JSON.stringify({ growthMiB: (process.memoryUsage.rss() - before) / 2 ** 20 }));
    `,
      { execArgv: ['--expose-gc'] },
    );
    expect(result.stderr).toBe('');
    const { growthMiB } = JSON.parse(result.stdout);
    expect(growthMiB).toBeLessThan(32);
  });

  it('a process that exits while hashing exits cleanly', () => {
    const dir = tempDir();
    const fd = openSync(join(dir, 'big.bin'), 'w');
    ftruncateSync(fd, 2 * 1024 * 1024 * 1024);
    closeSync(fd);
    // It exits from the first progress report: hashing has begun, and 2 GiB is far from done.
    const result = child(`
      let exiting = false;
      const onProgress = () => { if (!exiting) { exiting = true; console.log('exiting'); process.exit(7); } };
      m.createNativeBackend().hashVariant('sha512', ${JSON.stringify(dir)}, { onProgress }).then(() => console.log('finished?'));
    `);
    expect(result.signal).toBeNull();
    expect(result).toMatchObject({ status: 7, stdout: 'exiting\n', stderr: '' });
  });

  it('a file cut short while mapped is refused as changed, and the process lives on', (ctx) => {
    skipUnless(ctx, MAPPED_READS, 'the engine maps files on Linux (x64, arm64) only; elsewhere it reads them (crates/engine/src/lib.rs)');
    // Files of 4 MiB and more are mapped whole and hashed in slices of 16 MiB when no core is to
    // spare (one thread here: crates/engine/src/file.rs MAP_THRESHOLD); the test-hooks
    // addon's KERNELSEAL_TEST_MAPPED_PAUSE_MS waits 300 ms before each slice: the first progress
    // (after the first slice) cuts the file while the second one waits.
    const bytes = pseudoRandomBytes(24 * 1024 * 1024, 5);
    const dir = writeTree(tempDir(), { 'weights.bin': bytes, 'original.bin': bytes });
    const [path, original] = [join(dir, 'weights.bin'), join(dir, 'original.bin')];
    const result = child(
      `
      const { copyFileSync, truncateSync } = await import('node:fs');
      const native = m.createNativeBackend(${testHooksAddonExpression()});
      const outcomes = [];
      for (const algorithm of ['sha256', 'blake3']) {
        copyFileSync(${JSON.stringify(original)}, ${JSON.stringify(path)});
        truncateSync(${JSON.stringify(path)}, 1024 * 1024 * 1024);
        let cut = false;
        const onProgress = () => { if (!cut) { cut = true; truncateSync(${JSON.stringify(path)}, 1024 * 1024); } };
        outcomes.push(await native.hashFile(${JSON.stringify(path)}, algorithm, { onProgress }).then(() => 'hashed', (e) => ({ code: e.code, reason: e.reason })));
      }
      const afterwards = (await native.hashFile(${JSON.stringify(path)}, 'sha256')).toString('hex');
      console.log(JSON.stringify({ outcomes, afterwards }));
    `,
      { env: { KERNELSEAL_TEST_MAPPED_PAUSE_MS: '300', RAYON_NUM_THREADS: '1' } },
    );
    expect(result).toMatchObject({ status: 0, signal: null, stderr: '' });
    const { outcomes, afterwards } = JSON.parse(result.stdout);
    for (const outcome of outcomes) {
      expect(outcome).toEqual({ code: 'FILE_CHANGED', reason: expect.stringContaining('cut short while mapped') });
    }
    expect(afterwards).toBe(createHash('sha256').update(bytes.subarray(0, 1024 * 1024)).digest('hex'));
  });

  it('installs its SIGBUS handler only once it maps a file, and never with KERNELSEAL_MMAP=0', (ctx) => {
    skipUnless(ctx, MAPPED_READS, 'the engine maps files on Linux (x64, arm64) only; elsewhere it installs no handler (crates/engine/src/lib.rs)');
    // SigCgt in /proc/self/status: the signals the process catches (SIGBUS is 7, bit 6).
    const [small, large] = [pseudoRandomBytes(1024 * 1024, 7), pseudoRandomBytes(5 * 1024 * 1024, 8)];
    const dir = writeTree(tempDir(), { 'small.bin': small, 'large.bin': large });
    const script = `
      const { readFileSync } = await import('node:fs');
      const catchesSigbus = () => ((BigInt('0x' + /SigCgt:\\s+(\\w+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) >> 6n) & 1n) === 1n;
      const native = m.createNativeBackend();
      const seen = [catchesSigbus()];
      const digests = [];
      for (const file of ['small.bin', 'large.bin']) {
        digests.push((await native.hashFile(${JSON.stringify(dir)} + '/' + file, 'sha256')).toString('hex'));
        seen.push(catchesSigbus());
      }
      console.log(JSON.stringify({ seen, digests }));`;
    const digests = [small, large].map((bytes) => createHash('sha256').update(bytes).digest('hex'));
    // One thread: a single file is mapped only when no core is to spare (crates/engine/src/file.rs MAP_THRESHOLD).
    const mapping = child(script, { env: { RAYON_NUM_THREADS: '1' } });
    expect(mapping).toMatchObject({ status: 0, stderr: '' });
    expect(JSON.parse(mapping.stdout)).toEqual({ seen: [false, false, true], digests });
    const reading = child(script, { env: { KERNELSEAL_MMAP: '0', RAYON_NUM_THREADS: '1' } });
    expect(reading).toMatchObject({ status: 0, stderr: '' });
    expect(JSON.parse(reading.stdout)).toEqual({ seen: [false, false, false], digests });
  });

  it('cancelling 1,000 in-flight hashes leaks nothing', () => {
    const dir = writeTree(tempDir(), { 'a.bin': pseudoRandomBytes(2_000_000, 3), 'b.py': 'b' });
    const result = child(
      `
      const native = m.createNativeBackend();
      await native.hashVariant('sha256', ${JSON.stringify(dir)}); // start the engine's threads
      globalThis.gc();
      const before = { rss: process.memoryUsage.rss(), threads: threads() };
      for (let batch = 0; batch < 2; batch++) {
        const controller = new AbortController();
        const calls = Array.from({ length: 1000 }, () => native.hashVariant('sha512', ${JSON.stringify(dir)}, { signal: controller.signal }));
        controller.abort();
        const settled = await Promise.allSettled(calls);
        if (!settled.every((s) => s.status === 'rejected' && s.reason.name === 'AbortError')) throw new Error('not all cancelled');
      }
      // Cancelled jobs end their threads on their own time: wait for them, up to a deadline.
      const deadline = performance.now() + 30_000;
      while (before.threads !== null && threads() > before.threads && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      globalThis.gc();
      const after = { rss: process.memoryUsage.rss(), threads: threads() };
      const ok = await native.hashVariant('sha256', ${JSON.stringify(dir)});
      console.log(JSON.stringify({ growthMiB: (after.rss - before.rss) / 2 ** 20, threadsBefore: before.threads, threadsAfter: after.threads, stillWorks: ok.paths.length }));
    `,
      { execArgv: ['--expose-gc'] },
    );
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout);
    expect(report.stillWorks).toBe(2);
    if (report.threadsBefore === null) notChecked('no thread left behind', 'threads are counted in /proc/self/status (Linux)');
    else expect(report.threadsAfter).toBe(report.threadsBefore);
    expect(report.growthMiB).toBeLessThan(32);
  });
});
