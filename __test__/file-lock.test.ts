// The one file lock (src/fs/file-lock.ts) between processes: whatever backend a process hashes
// with, it takes the addon's flock whenever the addon loads, so a process forced to the pure
// backend and a native one exclude each other, on the Hub cache's blob lock (the file
// huggingface_hub flocks too) and on a publisher list's state lock. Where no addon loads at all,
// a created pid file excludes the processes that use it, and is taken over once its holder is gone.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/fs.js';
import { internal } from './helpers/package.js';

const { addonFlock } = (await import(internal('fs/file-lock.js'))) as typeof import('../dist/fs/file-lock.js');

const REPO = 'org/relu';
const COMMIT = 'c'.repeat(40);
const CONTENT = 'print("relu")\n';
const BLOB_ID = createHash('sha1').update(`blob ${Buffer.byteLength(CONTENT)}\0`).update(CONTENT).digest('hex');
const DIGEST = 'd'.repeat(64);

type Target = 'hub' | 'state';
type Kind = 'native' | 'pure';
/** hold: take the lock and keep it until told; try: wait for it at most 400 ms (then `result TimeoutError`). */
type Mode = 'hold' | 'try';

/** The file each lock flocks: the Hub's `<id>.lock` (huggingface_hub's own), the state's `lock`. */
const lockPath = (root: string, target: Target) =>
  target === 'hub' ? join(root, '.locks', 'kernels--org--relu', `${BLOB_ID}.lock`) : join(root, 'publishers', DIGEST, 'lock');

/**
 * A child kernelseal process taking the lock of `target` under `root` through the real code
 * (HubCache.ensureFile, ClientState.withLock). It prints `backend <name>` first, `locked` once
 * inside the lock, then `result <outcome or error name>`. `noAddon` makes every addon fail to
 * load in it, as on a platform with none.
 */
function lockIn(target: Target, kind: Kind, mode: Mode, root: string, noAddon = false) {
  const script = `
    import { createRequire } from 'node:module';
    import { createInterface } from 'node:readline';
    ${noAddon ? "createRequire(import.meta.url)('node:module')._extensions['.node'] = () => { throw new Error('no addon here'); };" : ''}
    const { digestBackend } = await import(${JSON.stringify(internal('hashing/select-backend.js'))});
    const { HubCache } = await import(${JSON.stringify(internal('kernels/hub/cache.js'))});
    const { ClientState } = await import(${JSON.stringify(internal('kernels/publishers/client-state.js'))});
    console.log('backend ' + digestBackend().name);
    const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    const signal = ${JSON.stringify(mode)} === 'try' ? AbortSignal.timeout(400) : undefined;
    const inside = async () => {
      console.log('locked');
      if (${JSON.stringify(mode)} === 'hold') await lines.next();
    };
    try {
      if (${JSON.stringify(target)} === 'hub') {
        const cache = new HubCache(${JSON.stringify(root)}, ${JSON.stringify(REPO)}, 'kernel');
        const file = { path: 'build/cpu/layers.py', size: ${Buffer.byteLength(CONTENT)}, blobId: ${JSON.stringify(BLOB_ID)} };
        const placed = await cache.ensureFile(${JSON.stringify(COMMIT)}, file, async (handle) => {
          await inside();
          await handle.write(${JSON.stringify(CONTENT)});
          return {};
        }, { signal });
        await cache.close();
        console.log('result ' + placed.outcome);
      } else {
        const state = await ClientState.at(${JSON.stringify(root)}, ${JSON.stringify(DIGEST)});
        await state.withLock(inside, signal);
        console.log('result entered');
      }
    } catch (error) {
      console.log('result ' + error.name);
    }
    process.exit(0);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, KERNELSEAL_DIGEST_BACKEND: kind },
  });
  children.push(child);
  return lineProcess(child);
}

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** A child's lines, one at a time (a test that waits on a line fails by its own timeout, never by a guess). */
function lineProcess(child: ChildProcessWithoutNullStreams) {
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    pid: () => child.pid!,
    async line(): Promise<string> {
      const next = await lines.next();
      if (next.done) throw new Error(`the child ended: ${stderr}`);
      return next.value;
    },
    release: () => child.stdin.write('release\n'),
  };
}

/** Whether this process can flock `path` now (and lets go at once): no one else holds it. */
function free(path: string): boolean {
  const fd = openSync(path, 'r+');
  try {
    return addonFlock()!(fd);
  } finally {
    closeSync(fd);
  }
}

/** The Hub's blob the lock guards, once downloaded. */
const blobPath = (root: string) => join(root, 'kernels--org--relu', 'blobs', BLOB_ID);

const HOLDS: Record<Target, string> = { hub: 'result downloaded', state: 'result entered' };

describe.each([
  ['pure', 'native'],
  ['native', 'pure'],
] as const)('a process hashing with the %s backend holding a lock, and one hashing with the %s backend', (holderKind, waiterKind) => {
  it.each(['hub', 'state'] as const)('exclude each other on the %s lock (the same flocked file)', async (target) => {
    const root = tempDir('kernelseal-lock-');
    const holder = lockIn(target, holderKind, 'hold', root);
    expect(await holder.line()).toBe(`backend ${holderKind}`);
    expect(await holder.line()).toBe('locked');
    // The holder flocks the very file: the Hub's is the one huggingface_hub flocks.
    expect(free(lockPath(root, target))).toBe(false);
    expect(existsSync(`${lockPath(root, target)}.pid`)).toBe(false);
    // The other kind of process does not get in while it is held: it waits until its signal ends the wait.
    const waiter = lockIn(target, waiterKind, 'try', root);
    expect(await waiter.line()).toBe(`backend ${waiterKind}`);
    expect(await waiter.line()).toBe('result TimeoutError');
    holder.release();
    expect(await holder.line()).toBe(HOLDS[target]);
    expect(free(lockPath(root, target))).toBe(true); // released with its holder, and never deleted
    // Then it gets in (the Hub's blob removed, so that it has to).
    if (target === 'hub') rmSync(blobPath(root));
    const after = lockIn(target, waiterKind, 'try', root);
    expect(await after.line()).toBe(`backend ${waiterKind}`);
    expect(await after.line()).toBe('locked');
    expect(await after.line()).toBe(HOLDS[target]);
  }, 30_000);
});

describe('where no addon can load', () => {
  it.each(['hub', 'state'] as const)('the %s lock is a created pid file beside the flocked one, excluding others alike, taken over once its holder is gone', async (target) => {
    const root = tempDir('kernelseal-lock-');
    // A lock file a flocking process (huggingface_hub) left: never deleted, nor taken for a stale pid file.
    mkdirSync(join(lockPath(root, target), '..'), { recursive: true, mode: 0o700 });
    writeFileSync(lockPath(root, target), '');
    const holder = lockIn(target, 'pure', 'hold', root, true);
    expect(await holder.line()).toBe('backend pure');
    expect(await holder.line()).toBe('locked');
    const pidFile = `${lockPath(root, target)}.pid`;
    expect(readFileSync(pidFile, 'utf8')).toBe(String(holder.pid()));
    const waiter = lockIn(target, 'pure', 'try', root, true);
    expect(await waiter.line()).toBe('backend pure');
    expect(await waiter.line()).toBe('result TimeoutError');
    holder.release();
    expect(await holder.line()).toBe(HOLDS[target]);
    expect(existsSync(pidFile)).toBe(false);
    expect(existsSync(lockPath(root, target))).toBe(true);
    // A holder that died leaves its pid file: the next process finds no such process and takes it.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(pidFile, String(dead));
    if (target === 'hub') rmSync(blobPath(root));
    const next = lockIn(target, 'pure', 'try', root, true);
    expect(await next.line()).toBe('backend pure');
    expect(await next.line()).toBe('locked');
    expect(await next.line()).toBe(HOLDS[target]);
    expect(existsSync(pidFile)).toBe(false);
  }, 30_000);
});
