import { describe, expect, it } from 'vitest';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { pseudoRandomBytes, runNode, tempDir, writeTree } from './helpers/fs.js';
import { DIST } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const addon = ks.loadAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;

/** Runs a script in a child Node with the package imported as `m` and the addon as `addon`. */
function child(body: string, options: Parameters<typeof runNode>[1] = {}) {
  return runNode(`const m = await import(${JSON.stringify(DIST)}); const addon = m.loadAddon();\n${body}`, { timeout: 120_000, ...options });
}

describe('the addon under stress', () => {
  it.each([
    ['an algorithm that is not a string', () => addon.hashVariant!(256, '/tmp'), /algorithm must be a string/],
    ['an unknown algorithm', () => addon.hashVariant!('md5', '/tmp'), /algorithm must be one of sha256, sha512, blake3/],
    ['a missing directory argument', () => addon.hashVariant!('sha256'), /dir must be a string/],
    ['a path with a NUL byte', () => addon.hashVariant!('sha256', '/tmp\0/x'), /non-empty path without NUL bytes/],
    ['an empty path', () => addon.hashFile!('', 'sha256'), /non-empty path/],
    ['a progress callback that is not a function', () => addon.hashVariant!('sha256', '/tmp', 42), /onProgress must be a function/],
    ['a cancel token that is not one', () => addon.hashVariant!('sha256', '/tmp', undefined, {}), /cancelToken must come from createCancelToken/],
    ['cancel of a plain object', () => addon.cancel!({}), /expected a token from createCancelToken/],
    ['cancel of an external of another addon', () => addon.cancel!(undefined), /expected a token/],
  ])('raises a TypeError for %s', (_name, call, message) => {
    let thrown: unknown;
    try {
      call();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as { code?: string }).code).toMatch(/^ERR_INVALID_ARG_(TYPE|VALUE)$/);
  });

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
    const result = child(`
      m.createNativeBackend().hashVariant('sha512', ${JSON.stringify(dir)}).then(() => console.log('finished?'));
      setTimeout(() => { console.log('exiting'); process.exit(7); }, 300);
    `);
    expect(result.signal).toBeNull();
    expect(result).toMatchObject({ status: 7, stdout: 'exiting\n', stderr: '' });
  });

  it('cancelling 1,000 in-flight hashes leaks nothing', () => {
    const dir = writeTree(tempDir(), { 'a.bin': pseudoRandomBytes(2_000_000, 3), 'b.py': 'b' });
    const result = child(
      `
      const native = m.createNativeBackend();
      const { readFileSync } = await import('node:fs');
      const threads = () => Number(/Threads:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
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
      await new Promise((r) => setTimeout(r, 200));
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
    expect(report.threadsAfter).toBe(report.threadsBefore);
    expect(report.growthMiB).toBeLessThan(32);
  });
});
