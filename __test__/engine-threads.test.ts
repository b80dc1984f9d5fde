import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runNode, tempDir, writeTree } from './helpers/fs.js';
import { CLI, DIST } from './helpers/package.js';

/**
 * The engine's hashing threads (crates/engine/src/pool.rs): however many RAYON_NUM_THREADS asks
 * for, at most 256 are started (or one per core where there are more), and when even those
 * cannot start (a limit on processes) every call fails at once with the reason. Left to rayon,
 * RAYON_NUM_THREADS=100000 under `ulimit -u 3000` started threads until the limit and then
 * never returned.
 */
const ASKS = { RAYON_NUM_THREADS: '100000' };

describe('the hashing threads', () => {
  it('are at most 256 whatever RAYON_NUM_THREADS asks, and hash', () => {
    const dir = writeTree(tempDir(), { 'a.py': 'a' });
    const result = runNode(
      `const m = await import(${JSON.stringify(DIST)});
       const native = m.createNativeBackend();
       const { digests } = await native.hashVariant('sha256', ${JSON.stringify(dir)});
       console.log(JSON.stringify({ details: native.details, digest: Buffer.from(digests).toString('hex') }));`,
      { env: ASKS },
    );
    expect(result).toMatchObject({ status: 0, stderr: '' });
    const { details, digest } = JSON.parse(result.stdout);
    expect(details).toMatch(/, 256 threads$/);
    expect(digest).toBe(createHash('sha256').update('a').digest('hex'));
  });

  describe.skipIf(process.platform !== 'linux' || process.getuid?.() !== 0)('under a limit on processes (as a user of its own: root ignores RLIMIT_NPROC)', () => {
    // A user of its own: RLIMIT_NPROC counts every thread of the user, and other tests run
    // processes as nobody. Node itself needs about a dozen threads; 40 leave it room to start,
    // not 256 hashing threads.
    const user = limitedUser();
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync('prlimit', ['--nproc=40:40', '--', process.execPath, ...args], {
        encoding: 'utf8',
        env: { ...process.env, ...ASKS, ...env },
        uid,
        gid: uid,
        cwd: '/',
        timeout: 60_000,
      });

    it('fail at once, every call, with the reason and not as a verdict about the files', () => {
      const dir = writeTree(tempDir(), { 'a.py': 'a' });
      chmodSync(dir, 0o755);
      const result = run([
        '--input-type=module',
        '-e',
        `const nb = await import(${JSON.stringify(new URL('../dist/hashing/native/backend.js', import.meta.url).href)});
         const addon = nb.loadAddon();
         const tries = [];
         for (const call of [() => nb.createNativeBackend(addon), () => addon.hashVariant('sha256', ${JSON.stringify(dir)}), () => addon.walkTree(${JSON.stringify(dir)})]) {
           try { await call(); tries.push('no error'); } catch (e) { tries.push({ name: e.constructor.name, code: e.code, message: e.message }); }
         }
         console.log(JSON.stringify(tries));`,
      ]);
      expect(result.signal).toBeNull();
      expect(result.status).toBe(0);
      const tries = JSON.parse(result.stdout);
      expect(tries).toHaveLength(3);
      for (const tried of tries) {
        expect(tried).toEqual({
          name: 'Error',
          code: 'ERR_KERNELSEAL_THREADS',
          message: expect.stringMatching(
            /^the digest engine cannot start 256 hashing threads \(RAYON_NUM_THREADS asks for 100000, at most 256 are started\): Resource temporarily unavailable.*; this user may run at most 40 processes and threads \(ulimit -u\)$/,
          ),
        });
      }
    });

    it('leave the CLI on the pure backend, saying why (or failing, when native is required)', () => {
      const version = run([CLI, '--version']);
      expect(version).toMatchObject({ status: 0, signal: null });
      expect(version.stdout).toMatch(/digest backend: pure; native unavailable: the digest engine cannot start 256 hashing threads \(RAYON_NUM_THREADS asks for 100000/);
      const dir = writeTree(tempDir(), { 'a.py': 'a' });
      chmodSync(dir, 0o755);
      const forced = run([CLI, 'digest', dir], { KERNELSEAL_DIGEST_BACKEND: 'native' });
      expect(forced.signal).toBeNull();
      expect(forced.stderr).toMatch(/KERNELSEAL_DIGEST_BACKEND=native, but the digest engine cannot start 256 hashing threads/);
      expect(forced.status).toBe(2); // the environment asks for what cannot be: exit 2 (src/cli/main.ts)
    });
  });
});

/** A system user for these tests alone, made once (useradd) and kept, like any test user. */
function limitedUser(): string {
  const name = 'kernelseal-nproc';
  if (spawnSync('id', ['-u', name]).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
    // Another test run may have made it in between.
    if (made.status !== 0 && spawnSync('id', ['-u', name]).status !== 0) throw new Error(`useradd ${name}: ${made.stderr}`);
  }
  return name;
}
