import { constants, fstatSync, lstatSync, renameSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { lstat, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { withFileLock } from '../../fs/file-lock.js';
import { fileSystemSync } from '../../fs/sync-file-system.js';
import { readBounded, type Read } from '../../fs/read-bounded.js';
import { DirsInside, openRegular, pointsAt, UnsafePathError } from '../../fs/write-inside.js';
import type { FetchedBlob, HubFile, RepoType } from './hub-client.js';
import { hubCacheRoot } from './hub-env.js';
import { fileObjectId } from './object-id.js';
import { isCommit } from '../../commit.js';

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
  /** The folders this load writes blobs, links and locks into, checked once each (src/fs/write-inside.ts says why); closed by `close`. */
  private readonly dirs: DirsInside;
  /** The folders `realFolder` found real, by path: their device and inode. */
  private readonly folders = new Map<string, string>();
  /** One syncfs for every blob placed (`makeDurable`), where the platform has it; else an fsync per blob. */
  private readonly syncAll = fileSystemSync();
  /** Whether a blob was placed without its own fsync since the last `makeDurable`. */
  private unsynced = false;

  constructor(
    readonly root: string,
    readonly repoId: string,
    repoType: RepoType,
  ) {
    const name = `${repoType}s--${repoId.replace('/', '--')}`;
    this.repoDir = join(root, name);
    this.lockDir = join(root, '.locks', name);
    this.dirs = new DirsInside(root);
  }

  /**
   * Has on disk what a load is about to rely on (stage 7, before it records a receipt): every
   * blob this cache placed without an fsync of its own (`syncLater`), and given `files` (those a
   * receipt is about to vouch for) those too, whoever placed them: a load that stopped before its
   * end (aborted, killed, refused) leaves blobs placed so and never written out. One syncfs of the
   * file system the blobs are on (src/fs/sync-file-system.ts), through the blobs folder's
   * descriptor this load opened before writing into it, for blobs placed so or SYNC_ONCE_FILES
   * files or more; else an fsync of each of `files` (where there is no syncfs, every blob this
   * load placed was fsynced before it was placed).
   *
   * A blob placed and not yet written out when the machine stops is vouched for by no receipt:
   * the next load hashes it against the signed digest (SECURITY.md, what a receipt trusts).
   */
  async makeDurable(files: readonly string[] = []): Promise<void> {
    const fd = this.unsynced || files.length >= SYNC_ONCE_FILES ? await this.syncTarget() : undefined;
    if (fd !== undefined) {
      await this.syncAll!(fd).catch((error: unknown) => Promise.reject(this.dirs.named(error)));
      this.unsynced = false;
      return;
    }
    for (const file of files) await fsyncFile(file);
  }

  /**
   * The descriptor a syncfs of the blobs goes through: the blobs folder, held by this load
   * (src/fs/write-inside.ts DirsInside), so the file system written out is the one the blobs were
   * written to, whatever is put under the folder's name. Undefined where there is no syncfs, or
   * no folder held by its descriptor.
   */
  private async syncTarget(): Promise<number | undefined> {
    return this.syncAll && this.dirs.descriptor(join(this.repoDir, 'blobs'));
  }

  /** Releases the folders held open for writing: once no ensureFile is running, at the end of a load. */
  close(): Promise<void> {
    return this.dirs.close();
  }

  /** The default cache, as huggingface_hub finds it (src/kernels/hub/hub-env.ts). */
  static defaultRoot(): string {
    return hubCacheRoot();
  }

  snapshotDir(commit: string): string {
    return join(this.repoDir, 'snapshots', commit);
  }

  /**
   * Whether `dir` (a folder of this repository's cache: a snapshot's build/, a variant) is
   * there, refusing it (UNSAFE_PATH, named) unless every folder from the cache root down to it
   * is a real directory: a link anywhere on the way could lead outside the cache, and a path
   * handed back must not. Asked again of the same folder (before a verified variant is handed
   * back), it must be the very folder it was the first time.
   */
  async realFolder(dir: string): Promise<boolean> {
    const top = resolve(this.root);
    let path = top;
    let info;
    for (const part of relative(top, this.inside(dir)).split(sep)) {
      path = join(path, part);
      info = await lstat(path).catch(() => undefined);
      if (!info) return false;
      if (info.isSymbolicLink()) throw new UnsafePathError(`refusing ${path}: a symbolic link in the cache`);
      if (!info.isDirectory()) throw new UnsafePathError(`refusing ${path}: not a directory`);
    }
    const identity = `${info!.dev}:${info!.ino}`;
    const first = this.folders.get(path);
    if (first !== undefined && first !== identity) throw new UnsafePathError(`refusing ${path}: replaced by another folder while it was verified`);
    this.folders.set(path, identity);
    return true;
  }

  /** The commit a revision resolved to last time (offline use), if any; a ref that is not a small regular file is an error. */
  async readRef(revision: string): Promise<string | undefined> {
    const read = await this.read(join(this.repoDir, 'refs', revision), 1024);
    if ('missing' in read) return undefined;
    if ('error' in read) throw new Error(`cannot use the cached ref ${revision}: ${read.error}`);
    const text = Buffer.from(read.bytes).toString('utf8').trim();
    return isCommit(text) ? text : undefined;
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    await this.write(join(this.repoDir, 'refs', revision), commit);
  }

  /** Reads a file of this repository's cache folder, if it is a regular file no larger than `limit`. */
  read(path: string, limit: number): Promise<Read> {
    return readBounded(this.inside(path), limit);
  }

  /**
   * Writes a file of this repository's cache folder atomically, through the folders this load
   * checked and holds open (src/fs/write-inside.ts DirsInside): its temporary file too.
   */
  write(path: string, data: string | Uint8Array): Promise<void> {
    return this.dirs.writeFile(this.inside(path), data).catch((error: unknown) => Promise.reject(this.dirs.named(error)));
  }

  /**
   * Removes the bytecode (`paths`, relative to the variant folder `dir`, as the walk names them)
   * through the folders this load checked: never a file a link leads to, never outside the cache.
   */
  async removeBytecode(dir: string, paths: readonly string[]): Promise<void> {
    for (const path of paths) await this.dirs.remove(this.inside(join(dir, path))).catch((error: unknown) => Promise.reject(this.dirs.named(error)));
  }

  /**
   * Makes `<snapshot>/<file.path>` point at the blob of `file`, downloading the blob with
   * `fetch` (into the `.incomplete` file whose handle it is given) unless it is already here
   * (`in-place`). One process at a time downloads a given blob; the others wait for it, then link.
   *
   * When `fetch` returns the hash of what it wrote (the signed digest's algorithm), `accept`
   * judges it before the blob is renamed into place: refused, the download is removed, never
   * placed (`rejected`, with the hash); so is a download `fetch` found to be other bytes than the
   * listing names (`wrong-content`). A download cut short (a throw) is kept, to resume. The blob
   * is then fsynced and renamed (`downloaded`); if this call created the `.incomplete` file
   * itself (O_EXCL: it existed nowhere before), held the lock huggingface_hub honours too while
   * writing it (so no cooperating downloader wrote into it), and the blob is still that file,
   * the blob and its hash are handed back (`streamed`): getKernel may trust that hash instead of
   * reading the file again if, when it asks, the file is still that one and no one else can
   * write it (src/kernels/hub/skip-hashing.ts, one rule for that: src/kernels/hub/sole-writer.ts).
   *
   * A blob already here counts by its size, or, with `checkContent`, only if its content is the
   * object the listing names (its Git blob ID or LFS SHA-256): else it is downloaded again.
   *
   * `signal` also ends the wait for another process's lock: a load that stops must not stay
   * open waiting for a lock someone else holds (getKernel waits for every file under way before
   * it closes the cache's folders).
   */
  async ensureFile(commit: string, file: HubFile, fetch: (incomplete: FileHandle) => Promise<FetchedBlob>, options: PlaceOptions = {}): Promise<Placement> {
    // Its writes go through the folders' descriptors: a failure names the cache's paths instead.
    return this.placeFile(commit, file, fetch, options).catch((error: unknown) => Promise.reject(this.dirs.named(error)));
  }

  /** ensureFile, its errors naming paths through descriptors (src/fs/write-inside.ts DirsInside). */
  private async placeFile(commit: string, file: HubFile, fetch: Parameters<HubCache['ensureFile']>[2], { accept, signal, checkContent = false, syncLater = false }: PlaceOptions): Promise<Placement> {
    const { id, blob, link } = this.locate(commit, file);
    const inPlace: Placement = { outcome: 'in-place' };
    const placement = (await isComplete(blob, file, checkContent))
      ? inPlace
      : await this.withLock(id, async (exclusive) => {
          if (await isComplete(blob, file, checkContent)) return inPlace; // another fetcher finished it
          return this.download(blob, file, fetch, { accept, syncLater }, exclusive);
        }, signal);
    if (placement.outcome === 'rejected' || placement.outcome === 'wrong-content') return placement;
    await this.dirs.symlink(relative(dirname(link), blob), link); // kept if it points there already
    return placement;
  }

  /** The download of `blob`, under its lock (`exclusive`: one Python honours too), judged, then renamed into place. */
  private async download(blob: string, file: HubFile, fetch: Parameters<HubCache['ensureFile']>[2], { accept, syncLater }: PlaceOptions, exclusive: boolean): Promise<Placement> {
    // Written through the checked blobs/ folder itself (src/fs/write-inside.ts DirsInside):
    // a folder swapped for a link meanwhile redirects none of the writes below.
    const name = `${blob}.incomplete`;
    const incomplete = await this.dirs.at(name);
    const { handle, created } = await openIncomplete(incomplete, name);
    let refused: Placement | undefined;
    let hash: Uint8Array | undefined;
    try {
      // Into this very file, however often the download resumes: a file or link put under its
      // name meanwhile receives none of it (src/kernels/hub/hub-client.ts).
      const fetched = await fetch(handle);
      if ('wrongContent' in fetched) refused = { outcome: 'wrong-content', error: fetched.wrongContent };
      else if (fetched.hash && accept && !accept(fetched.hash)) refused = { outcome: 'rejected', hash: fetched.hash };
      else hash = fetched.hash;
      // On disk before it is placed; or, one of many (`syncLater`), before the load ends and
      // before any receipt vouches for it, all written out at once (`makeDurable`).
      if (!refused && syncLater && (await this.syncTarget()) !== undefined) this.unsynced = true;
      else if (!refused) await handle.sync();
    } finally {
      await handle.close();
    }
    // A wrong download is thrown away. What cannot be removed (a folder put under its name)
    // stays, refused again next time: the outcome reported is the download's.
    if (refused) return rm(incomplete, { force: true }).then(() => refused, () => refused);
    // Renamed and looked at synchronously, as the cache's other metadata calls (src/fs/write-inside.ts DirsInside).
    const placedAt = await this.dirs.at(blob);
    renameSync(incomplete, placedAt);
    const after = lstatSync(placedAt, { bigint: true });
    // Only under a lock Python honours too: without it, huggingface_hub resuming the same
    // `.incomplete` could have written into our file between our writes, unseen by our hash.
    const alone = exclusive && created && after.dev === created.dev && after.ino === created.ino && after.size === BigInt(file.size);
    return alone && hash ? { outcome: 'streamed', blob: { stats: after, hash } } : { outcome: 'downloaded' };
  }

  /**
   * Whether `file` is in place already: its blob complete (by size) and the snapshot's link
   * pointing at it, i.e. ensureFile would do nothing. Cheap enough to ask of every file of a
   * variant at once, where ensureFile runs only as many at a time as downloads (README.md,
   * Benchmarks: a second load online). Not a verification: the files are verified after, either way.
   */
  async isPlaced(commit: string, file: HubFile, checkContent = false): Promise<boolean> {
    const { blob, link } = this.locate(commit, file);
    return (await isComplete(blob, file, checkContent)) && (await isLinked(link, blob));
  }

  /** The blob of `file` (by its ID), and its link in the snapshot of `commit`. */
  private locate(commit: string, file: HubFile): { id: string; blob: string; link: string } {
    const id = file.lfsSha256 ?? file.blobId;
    return { id, blob: join(this.repoDir, 'blobs', id), link: this.inside(join(this.snapshotDir(commit), file.path)) };
  }

  /** Every path built from the Hub's listing must stay inside the cache's repository folder. */
  private inside(path: string): string {
    const absolute = resolve(path);
    if (!absolute.startsWith(resolve(this.repoDir) + sep)) throw new Error(`refusing a cache path outside ${this.repoDir}: ${path}`);
    return absolute;
  }

  /**
   * Runs `work` holding `<id>.lock`, waiting while another process holds it (src/fs/file-lock.ts,
   * one rule for every kernelseal): an exclusive `flock` on the same file huggingface_hub locks
   * (through filelock), so kernelseal and Python never download one blob twice at once. Opened
   * in the lock folder checked once per load (DirsInside): it is asked for every blob.
   */
  private withLock<T>(id: string, work: (sharedWithPython: boolean) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withFileLock(join(this.lockDir, `${id}.lock`), (kind) => work(kind === 'flock'), { signal, folder: this.dirs });
  }
}

/**
 * From this many files on, a fetch places them without an fsync each, and a receipt's files are
 * written out, with one syncfs (HubCache makeDurable): an fsync per file cost a first load of
 * 1,000 small files about a third of its time (README.md, Benchmarks: first loads). Fewer files
 * keep an fsync each: a syncfs also waits for whatever else is unwritten on that file system
 * (another process's large writes).
 */
export const SYNC_ONCE_FILES = 32;

/** How ensureFile places a file: `accept` judges the hash of a download, `signal` stops it, `checkContent` checks a blob already here. */
export interface PlaceOptions {
  accept?: (hash: Uint8Array) => boolean;
  signal?: AbortSignal;
  checkContent?: boolean;
  /**
   * One of many files placed by this load: written out with the others by `makeDurable` (one
   * syncfs) where the platform can, instead of an fsync of its own before it is placed.
   */
  syncLater?: boolean;
}

/**
 * What ensureFile did: found the blob in place, downloaded it (`streamed`: hashed as it arrived,
 * by this process alone), or threw the download away, never placed: its hash refused by
 * `accept` (`rejected`), or not the object the listing names (`wrong-content`).
 */
export type Placement =
  | { outcome: 'in-place' }
  | { outcome: 'downloaded' }
  | { outcome: 'streamed'; blob: PlacedBlob }
  | { outcome: 'rejected'; hash: Uint8Array }
  | { outcome: 'wrong-content'; error: Error };

/** A blob this process wrote and hashed as it arrived, as it stood once renamed into place. */
export interface PlacedBlob {
  stats: BigIntStats;
  /** The raw hash of its content with the signed digest's algorithm. */
  hash: Uint8Array;
}

/**
 * The `.incomplete` file at `path` (named `name` in messages), open for reading and writing:
 * created here (O_EXCL: it existed nowhere before, never through a link), with its identity;
 * or one an earlier run left, to resume, if it is a regular file (a planted link or FIFO is refused).
 */
async function openIncomplete(path: string, name: string): Promise<{ handle: FileHandle; created?: BigIntStats }> {
  const flags = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(path, flags, 0o644).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') return undefined;
    throw error;
  });
  if (!handle) return { handle: await resumable(path, name) };
  try {
    return { handle, created: fstatSync(handle.fd, { bigint: true }) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * The `.incomplete` file an earlier run left, to resume into, if it is a regular file whose one
 * name is this one: another user of the cache may hard-link a file of ours there (where
 * fs.protected_hardlinks is off), and the resumed download would append to it, or truncate it.
 * The name is looked at after the open: if it still names the opened file, and that file has a
 * single link, no other name reached it at that instant, nor can one be added from outside the
 * cache since (a link is made from a name). huggingface_hub never hard-links an `.incomplete` file.
 */
async function resumable(path: string, name: string): Promise<FileHandle> {
  const handle = await openRegular(path, name);
  try {
    const held = await handle.stat({ bigint: true });
    const now = await lstat(path, { bigint: true }).catch(() => undefined);
    if (now?.dev !== held.dev || now.ino !== held.ino) throw new UnsafePathError(`refusing ${name}: replaced while it was opened`);
    if (now.nlink !== 1n) throw new UnsafePathError(`refusing ${name}: a file with ${now.nlink} names (a hard link)`);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Whether the snapshot's `link` points at `blob`, as the Hugging Face cache spells it (relative). */
async function isLinked(link: string, blob: string): Promise<boolean> {
  return pointsAt(link, relative(dirname(link), blob));
}

/** Has the regular file `path` on disk (an fsync through a descriptor that reads, never waiting on a FIFO); anything else is refused. */
async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(handle.fd).isFile()) throw new UnsafePathError(`refusing ${path}: not a regular file`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Whether `blob` is a regular file of `size` bytes, asked synchronously (as the cache's other
 * metadata calls: src/fs/write-inside.ts DirsInside) and without making an error of a missing
 * one: a first load asks it of every file, twice.
 */
function isSized(blob: string, size: number): boolean {
  try {
    const info = lstatSync(blob, { throwIfNoEntry: false });
    return info !== undefined && info.isFile() && info.size === size;
  } catch {
    return false;
  }
}

/**
 * A blob we downloaded: a regular file of the listed size (lstat: a planted link is not one, and
 * is replaced), and with `checkContent` holding the very object the listing names.
 */
async function isComplete(blob: string, file: HubFile, checkContent: boolean): Promise<boolean> {
  const sized = isSized(blob, file.size);
  if (!sized || !checkContent) return sized;
  return (await fileObjectId(blob, file.lfsSha256 ? 'lfs' : 'git')) === (file.lfsSha256 ?? file.blobId);
}
