import { constants } from 'node:fs';
import { lstat, open, readlink, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { readBounded, type Read } from '../../fs/read-bounded.js';
import { ensureDirInside, openRegularInside, symlinkInside, writeFileInside } from '../../fs/write-inside.js';
import { fileLocker } from '../../hashing/native/backend.js';
import type { HubFile, RepoType } from './hub-client.js';
import { hubCacheRoot } from './hub-env.js';

/**
 * The Hugging Face cache layout, so that kernels fetched here and by `huggingface_hub` share it:
 *
 *   <cache>/kernels--<org>--<name>/blobs/<object id>        file contents, named by ID
 *   <cache>/kernels--<org>--<name>/refs/<revision>          the commit a revision resolved to
 *   <cache>/kernels--<org>--<name>/snapshots/<commit>/<path> -> ../../blobs/<object id>
 *   <cache>/.locks/kernels--<org>--<name>/<object id>.lock  one downloader per blob
 *
 * Blobs are downloaded to `<id>.incomplete` (resumed across runs) and renamed when complete and
 * checked; snapshot links are made under a temporary name and renamed over: concurrent fetchers
 * never see a partial file or link.
 *
 * The cache may be shared with other users, who can plant links and special files in it. So
 * nothing here writes through a link it did not make (src/fs/write-inside.ts), and nothing here
 * is read without checking it is a regular file of bounded size (src/fs/read-bounded.ts).
 */
export class HubCache {
  readonly repoDir: string;
  private readonly lockDir: string;

  constructor(
    readonly root: string,
    readonly repoId: string,
    repoType: RepoType,
  ) {
    const name = `${repoType}s--${repoId.replace('/', '--')}`;
    this.repoDir = join(root, name);
    this.lockDir = join(root, '.locks', name);
  }

  /** The default cache, as huggingface_hub finds it (src/hub/hub-env.ts). */
  static defaultRoot(): string {
    return hubCacheRoot();
  }

  snapshotDir(commit: string): string {
    return join(this.repoDir, 'snapshots', commit);
  }

  /** The commit a revision resolved to last time (offline use), if any; a ref that is not a small regular file is an error. */
  async readRef(revision: string): Promise<string | undefined> {
    const read = await this.read(join(this.repoDir, 'refs', revision), 1024);
    if ('missing' in read) return undefined;
    if ('error' in read) throw new Error(`cannot use the cached ref ${revision}: ${read.error}`);
    const text = Buffer.from(read.bytes).toString('utf8').trim();
    return /^[0-9a-f]{40}$/.test(text) ? text : undefined;
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    await this.write(join(this.repoDir, 'refs', revision), commit);
  }

  /** Reads a file of this repository's cache folder, if it is a regular file no larger than `limit`. */
  read(path: string, limit: number): Promise<Read> {
    return readBounded(this.inside(path), limit);
  }

  /** Writes a file of this repository's cache folder atomically, through real directories only. */
  write(path: string, data: string | Uint8Array): Promise<void> {
    return writeFileInside(this.root, this.inside(path), data);
  }

  /**
   * Makes `<snapshot>/<file.path>` point at the blob of `file`, downloading the blob with
   * `fetch` (into the `.incomplete` path it is given) unless it is already here. One process at
   * a time downloads a given blob; the others wait for it, then link.
   */
  async ensureFile(commit: string, file: HubFile, fetch: (incomplete: string) => Promise<void>): Promise<string> {
    const id = file.lfsSha256 ?? file.blobId;
    const blob = join(this.repoDir, 'blobs', id);
    const link = this.inside(join(this.snapshotDir(commit), file.path));
    if (!(await isComplete(blob, file.size))) {
      await this.withLock(id, async () => {
        if (await isComplete(blob, file.size)) return; // another fetcher finished it
        const incomplete = `${blob}.incomplete`;
        // Refuses a planted link or FIFO, and a blobs/ folder that leads out of the cache; the
        // downloader opens it again with O_NOFOLLOW (src/hub/hub-client.ts).
        await (await openRegularInside(this.root, incomplete)).close();
        try {
          await fetch(incomplete);
        } catch (error) {
          // A partial download is kept to resume; a wrong one is thrown away.
          if ((error as { status?: number }).status === 422) await rm(incomplete, { force: true });
          throw error;
        }
        await ensureDirInside(this.root, dirname(blob));
        await rename(incomplete, blob);
      });
    }
    const target = relative(dirname(link), blob);
    if ((await readlink(link).catch(() => undefined)) !== target) await symlinkInside(this.root, target, link);
    return link;
  }

  /** Every path built from the Hub's listing must stay inside the cache's repository folder. */
  private inside(path: string): string {
    const absolute = resolve(path);
    if (!absolute.startsWith(resolve(this.repoDir) + sep)) throw new Error(`refusing a cache path outside ${this.repoDir}: ${path}`);
    return absolute;
  }

  /**
   * Runs `work` holding `<id>.lock`, waiting while another process holds it: an exclusive
   * `flock` on the same file huggingface_hub locks (through filelock), so kernelseal and Python
   * never download one blob twice at once. The lock dies with its holder: nothing is deleted.
   */
  private async withLock(id: string, work: () => Promise<void>): Promise<void> {
    await ensureDirInside(this.root, this.lockDir);
    const lock = join(this.lockDir, `${id}.lock`);
    const tryLock = fileLocker();
    if (!tryLock) return withCreatedLock(lock, work);
    const handle = await openRegularInside(this.root, lock);
    try {
      for (let wait = 10; !tryLock(handle.fd); wait = Math.min(wait * 2, 500)) await new Promise((resolve) => setTimeout(resolve, wait));
      await work();
    } finally {
      await handle.close(); // releases the lock
    }
  }
}

/**
 * Without the addon (no flock from Node itself): the lock is a file created exclusively, holding
 * the holder's pid, removed when done or when its holder is gone. It excludes other kernelseal
 * processes of this kind only, not Python's.
 */
async function withCreatedLock(lock: string, work: () => Promise<void>): Promise<void> {
  for (let wait = 10; ; wait = Math.min(wait * 2, 500)) {
    try {
      const handle = await open(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (await isStale(lock)) await unlink(lock).catch(() => {});
      else await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  try {
    await work();
  } finally {
    await unlink(lock).catch(() => {});
  }
}

/** A lock whose holder is gone (the process died) or that is older than ten minutes. */
async function isStale(lock: string): Promise<boolean> {
  // Bounded and non-blocking: a FIFO planted as a lock must not stall us (it reads as no pid).
  const [read, info] = await Promise.all([readBounded(lock, 64), lstat(lock).catch(() => undefined)]);
  const pid = 'bytes' in read ? Buffer.from(read.bytes).toString('utf8') : '';
  if (!info) return false;
  if (Date.now() - info.mtimeMs > 10 * 60_000) return true;
  const holder = Number(pid);
  if (!Number.isInteger(holder) || holder <= 0) return Date.now() - info.mtimeMs > 5_000; // being written
  try {
    process.kill(holder, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A blob we downloaded: a regular file of the listed size (lstat: a planted link is not one, and is replaced). */
async function isComplete(blob: string, size: number): Promise<boolean> {
  return lstat(blob).then((info) => info.isFile() && info.size === size, () => false);
}
