import { closeSync, constants } from 'node:fs';
import { lstat, open, unlink, type FileHandle } from 'node:fs/promises';
import { addonFunction } from '../addon.js';
import { readBounded } from './read-bounded.js';
import { openRegularSync } from './write-inside.js';

// The one exclusive file lock of kernelseal: the Hub cache's blobs (src/kernels/hub/cache.ts)
// and a publisher list client's state (src/kernels/publishers/client-state.ts) both take it.

/** How this process locks: the addon's `flock`, or a file it creates holding its pid. */
export type LockKind = 'flock' | 'created-file';

/** The first pause between two tries, and the longest: doubled from one to the other. */
const FIRST_PAUSE_MS = 5;
const LONGEST_PAUSE_MS = 250;
/** How often a created-file lock's holder marks it as still held (its mtime)... */
const HEARTBEAT_MS = 10_000;
/** ...and how long without a mark makes it stale: the holder died, whatever its pid now names. */
const STALE_MS = 60_000;
/** A created lock file with no pid yet is being written; this long after, its writer died. */
const WRITING_MS = 5_000;

/**
 * The addon's exclusive, non-waiting `flock` (Node has none): true when taken, released when the
 * file is closed; undefined where no addon loads on this platform.
 */
export function addonFlock(): ((fd: number) => boolean) | undefined {
  return addonFunction<(fd: number) => boolean>('tryLockFile');
}

/**
 * The one rule for which lock a process takes: the addon's `flock` whenever the addon loads on
 * this platform, whatever backend hashes (`KERNELSEAL_DIGEST_BACKEND=pure` included), so that
 * every kernelseal on a machine locks alike, and as huggingface_hub does (filelock flocks the
 * same file); a created file only where no addon can load at all. The digest backend's
 * `lockFile` is not asked: two processes hashing differently must still exclude each other.
 */
export function lockKind(): LockKind {
  return addonFlock() ? 'flock' : 'created-file';
}

/** The folder a lock is in, reached as a shared cache reaches its own (src/fs/write-inside.ts `DirsInside`). */
export interface LockFolder {
  /** The path to open or create `path` through. */
  at(path: string): Promise<string>;
}

export interface FileLockOptions {
  /** Aborting ends the wait, throwing its reason: a caller that stops must not wait on. */
  signal?: AbortSignal;
  /** Give up after waiting `ms`, throwing what `error` makes; without it, wait as long as the holder holds. */
  timeout?: { ms: number; error: () => Error };
  /** How to reach the lock's folder (default: by its path, through openRegular of src/fs/write-inside.ts). */
  folder?: LockFolder;
}

const byPath: LockFolder = { at: async (path) => path };

/**
 * Runs `work` holding the exclusive lock of `path`, waiting (with backoff) while another process
 * holds it; `work` is told which kind it holds (only a `flock` keeps huggingface_hub out).
 *
 * `flock`: on `path` itself, which is never deleted; the lock dies with its holder. A created
 * file: `<path>.pid`, made exclusively and holding the holder's pid, removed when done, or by a
 * waiter when stale ({@link isStale}). It is never `path`, which flocking processes (Python's
 * included) leave behind empty and which a waiter would otherwise delete from under them.
 */
export async function withFileLock<T>(path: string, work: (kind: LockKind) => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const folder = options.folder ?? byPath;
  const wait = waiting(options);
  const tryLock = addonFlock();
  if (tryLock) {
    // Opened and closed synchronously, as the cache's other metadata calls (src/fs/write-inside.ts
    // DirsInside): the Hub cache takes a lock per file it places.
    const fd = openRegularSync(await folder.at(path), path);
    try {
      while (!tryLock(fd)) await wait();
      return await work('flock');
    } finally {
      closeSync(fd); // releases the lock
    }
  }
  const created = await folder.at(`${path}.pid`);
  const held = await createLock(created, wait);
  const heartbeat = setInterval(() => {
    const now = new Date();
    held.utimes(now, now).catch(() => {});
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await work('created-file');
  } finally {
    clearInterval(heartbeat);
    await release(created, held);
  }
}

/** The pause before the next try: longer each time, ended early by the signal, refused past the deadline. */
function waiting({ signal, timeout }: FileLockOptions): () => Promise<void> {
  const deadline = timeout ? Date.now() + timeout.ms : Infinity;
  let ms = FIRST_PAUSE_MS;
  return async () => {
    signal?.throwIfAborted();
    if (Date.now() > deadline) throw timeout!.error();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, Math.max(deadline - Date.now(), 0)));
      signal?.addEventListener('abort', done, { once: true });
    });
    signal?.throwIfAborted();
    ms = Math.min(ms * 2, LONGEST_PAUSE_MS);
  };
}

/** Creates the lock file `created` (O_EXCL) holding this pid, removing a stale one on the way; open while held. */
async function createLock(created: string, wait: () => Promise<void>): Promise<FileHandle> {
  for (;;) {
    try {
      const handle = await open(created, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
      try {
        await handle.writeFile(String(process.pid));
        return handle;
      } catch (error) {
        await handle.close();
        await unlink(created).catch(() => {});
        throw error;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (await isStale(created)) await unlink(created).catch(() => {});
      else await wait();
    }
  }
}

/** Removes the lock file if it is still the one this process created (a waiter may have found it stale and made its own). */
async function release(created: string, held: FileHandle): Promise<void> {
  try {
    const [mine, there] = await Promise.all([held.stat(), lstat(created).catch(() => undefined)]);
    if (there && there.dev === mine.dev && there.ino === mine.ino) await unlink(created).catch(() => {});
  } finally {
    await held.close();
  }
}

/**
 * The one staleness rule of a created lock file: its pid names no running process, or its
 * holder has not marked it for STALE_MS (it heartbeats every HEARTBEAT_MS while it holds: a pid
 * reused by another process does not keep a dead holder's lock), or it holds no pid WRITING_MS
 * after it was made (its writer died between creating and writing it).
 */
async function isStale(lock: string): Promise<boolean> {
  // Bounded and non-blocking: a FIFO planted as a lock must not stall us (it reads as no pid).
  const [read, info] = await Promise.all([readBounded(lock, 64), lstat(lock).catch(() => undefined)]);
  if (!info) return false; // gone already: the next try creates it
  const age = Date.now() - info.mtimeMs;
  if (age > STALE_MS) return true;
  const pid = Number('bytes' in read ? Buffer.from(read.bytes).toString('utf8') : '');
  if (!Number.isInteger(pid) || pid <= 0) return age > WRITING_MS;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
