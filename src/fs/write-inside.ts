import { closeSync, constants, fstatSync, openSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, realpath, rename, rm, rmdir, stat, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

/**
 * Writes into a directory tree that others may also write to (a shared Hugging Face cache):
 * every directory between `root` and the file must be a real directory, never a symlink, and the
 * file itself is never reached through a link we did not make. `root` itself is trusted (the
 * user named it); a link planted anywhere below it is refused with an error naming it.
 *
 * Node has no openat(), so for the functions below a directory swapped for a link between the
 * check and the write is caught after the fact where it can be (the opened file's real path),
 * not prevented. DirsInside prevents it on Linux, and checks each folder once per load.
 */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
  readonly code = 'UNSAFE_PATH' as const;
}

/** Makes `dir` (and its parents below `root`) as real directories, refusing any link on the way. */
export async function ensureDirInside(root: string, dir: string): Promise<void> {
  const top = resolve(root);
  const rel = relativeInside(root, dir);
  await mkdir(top, { recursive: true });
  let path = top;
  for (const part of rel === '' ? [] : rel.split(sep)) {
    path = resolve(path, part);
    await mkdir(path).catch(ignoreExisting);
    assertRealDirectory(path, await lstat(path));
  }
  await assertInside(root, await realpath(resolve(dir)), dir);
}

/** `dir` relative to `root`, refused (named) when it is not below it. */
function relativeInside(root: string, dir: string): string {
  const rel = relative(resolve(root), resolve(dir));
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new UnsafePathError(`refusing ${dir}: outside ${root}`);
  return rel;
}

/** A folder of the cache we write through must be a real directory: a link or anything else is refused, named. */
function assertRealDirectory(path: string, info: Stats): void {
  if (info.isSymbolicLink()) throw new UnsafePathError(`refusing to write through ${path}: a symbolic link in the cache`);
  if (!info.isDirectory()) throw new UnsafePathError(`refusing to write through ${path}: not a directory`);
}

function ignoreExisting(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EEXIST') throw error;
}

function ignoreMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code !== 'ENOENT') throw error;
  return undefined;
}

/** Writes `data` to `path` under `root` atomically (temp file, fsync, rename), through real directories only. */
export async function writeFileInside(root: string, path: string, data: string | Uint8Array): Promise<void> {
  await ensureDirInside(root, dirname(path));
  // The temp file is created with O_CREAT|O_EXCL, which never follows a link (src/fs/atomic-write.ts);
  // rename replaces a link at `path` itself, never its target.
  await writeFileAtomic(path, data);
}

/** Points the symlink `link` under `root` at `target`: made under a temporary name, then renamed over. */
export async function symlinkInside(root: string, target: string, link: string): Promise<void> {
  await ensureDirInside(root, dirname(link));
  // The directory was not swapped meanwhile.
  await linkOver(target, link, async () => assertInside(root, await realpath(dirname(link)), link));
}

/**
 * Makes the link `at` -> `target` under a temporary name, then renames it over whatever `at` is
 * (a link there is replaced, never followed); `beforeRename` may still refuse. Nothing is left
 * behind on failure.
 */
async function linkOver(target: string, at: string, beforeRename?: () => Promise<void>): Promise<void> {
  const temp = join(dirname(at), `.${basename(at)}.${randomBytes(6).toString('hex')}.tmp`);
  await symlink(target, temp); // fails on anything already there: it never follows a link
  try {
    await beforeRename?.();
    await rename(temp, at);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Open flags of a regular file opened (or created) for reading and writing: never through a link, never blocking on a FIFO. */
const REGULAR = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Opens (creating if missing) the regular file `path` for reading and writing without following
 * a link at `path` and without blocking on a FIFO planted there; anything but a regular file is
 * refused, named `name` (what the user knows it as, when `path` reaches it through a descriptor).
 */
export async function openRegular(path: string, name = path): Promise<FileHandle> {
  const handle = await open(path, REGULAR, 0o644).catch((error: NodeJS.ErrnoException) => Promise.reject(openError(error, name)));
  try {
    assertRegular(fstatSync(handle.fd), name); // synchronous, as the cache's other metadata calls: see DirsInside
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * `openRegular`, synchronously, as a bare descriptor the caller closes (closeSync): for a file
 * only held, never read or written through Node's streams (a lock: src/fs/file-lock.ts).
 */
export function openRegularSync(path: string, name = path): number {
  let fd: number;
  try {
    fd = openSync(path, REGULAR, 0o644);
  } catch (error) {
    throw openError(error as NodeJS.ErrnoException, name);
  }
  try {
    assertRegular(fstatSync(fd), name);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** What a failed open of a regular file says: ELOOP is what O_NOFOLLOW answers for a link (EMLINK on some BSDs). */
function openError(error: NodeJS.ErrnoException, name: string): Error {
  return error.code === 'ELOOP' || error.code === 'EMLINK' ? new UnsafePathError(`refusing ${name}: a symbolic link`) : error;
}

function assertRegular(info: Stats, name: string): void {
  if (!info.isFile()) throw new UnsafePathError(`refusing ${name}: not a regular file`);
}

/**
 * The folders under `root` that one load writes into, each made and checked once (a real
 * directory, reached from `root` through real directories only) and then held open until
 * `close` (checking every folder of every path again, per file, with mkdir, lstat and realpath,
 * cost a first load of 1,000 small files three times its download: README.md, Benchmarks).
 *
 * On Linux, `/proc/self/fd/<fd>/<name>` is `<name>` in the very directory the descriptor holds:
 * the kernel does not look that directory's path up again (an openat() for Node, which has
 * none). So a folder swapped for a link, or moved, after its check redirects nothing written
 * through `at`: the write lands in the directory that was checked, and there is no per-file
 * check of the folders left to make, nor a real path to re-check after opening. The last component
 * keeps its own guards: O_NOFOLLOW and O_EXCL on open; a link is made where nothing is (symlink()
 * never follows one) or under a temporary name renamed over what is there. Where /proc cannot do
 * this, every call checks the whole path again, as ensureDirInside and symlinkInside do.
 *
 * A path from `at` is valid only until `close`: the descriptor's number may be reused after it.
 *
 * The calls that only name or look at a file (stat, symlink, rename, the open of a lock) are
 * made synchronously, here and by the cache (src/kernels/hub/cache.ts): each takes microseconds
 * on a local disk, where a round trip through libuv's thread pool costs tens of them in CPU on
 * the main thread, about a dozen per file a first load places (README.md, Benchmarks: the first
 * load of 1,000 small files). Opening a file Node then writes to, writing, and fsync stay
 * asynchronous: they can wait on the disk.
 */
export class DirsInside {
  /** Directory -> the path reaching it through its descriptor. */
  private readonly opened = new Map<string, Promise<string>>();
  /** The path through a descriptor -> the directory it holds, as the user knows it (for `named`). */
  private readonly names = new Map<string, string>();
  /** The path through a descriptor -> that descriptor. */
  private readonly fds = new Map<string, number>();
  private readonly handles: FileHandle[] = [];
  private top: Promise<string | undefined> | undefined;
  private closed = false;

  constructor(readonly root: string) {}

  /**
   * The path to write `path` (under `root`) through: its name in its folder's descriptor, the
   * folder made and checked (once per instance); without /proc, `path` itself, its folders
   * checked again now.
   */
  async at(path: string): Promise<string> {
    if (this.closed) throw new Error(`${this.root}: the cache's folders are closed`);
    const dir = resolve(dirname(path));
    relativeInside(this.root, dir);
    if (!(await this.rootDir())) {
      await ensureDirInside(this.root, dir);
      return resolve(path);
    }
    return join(await this.dir(dir), basename(path));
  }

  /**
   * Points the symlink `link` under `root` at `target`, unless it does already: whatever else is
   * there is replaced, never followed.
   */
  async symlink(target: string, link: string): Promise<void> {
    if (!(await this.rootDir())) {
      if (!(await pointsAt(link, target))) await symlinkInside(this.root, target, link);
      return;
    }
    const at = await this.at(link);
    // Nothing there (a first load): symlink() makes it at once, atomically, and never follows a
    // link; one call where asking first would be two. Something there: kept if it is this link,
    // else replaced by a rename, as symlinkInside does.
    if (!makeLink(target, at) && !(await pointsAt(at, target))) await linkOver(target, at);
  }

  /**
   * Writes `data` to `path` under `root` atomically: a temporary file created (O_EXCL, never
   * through a link) in the checked folder, flushed, then renamed over `path` in that same folder
   * (a link there is replaced, never followed). Every step goes through the folder's descriptor:
   * a folder flipped between a directory and a link meanwhile redirects none of them.
   */
  async writeFile(path: string, data: string | Uint8Array): Promise<void> {
    if (!(await this.rootDir())) return writeFileInside(this.root, path, data);
    await writeFileAtomic(await this.at(path), data);
  }

  /**
   * Removes `path` under `root`, never anything a link leads to: a file or link is unlinked; a
   * directory is emptied through its own descriptor (opened without following a link, so the
   * entries listed and removed are that directory's, whatever its name leads to meanwhile),
   * then removed by its name in its checked folder (rmdir never follows a link). Missing is done.
   * Without /proc/self/fd, the folders are checked again and Node's `rm` does the rest.
   */
  async remove(path: string): Promise<void> {
    if (!(await this.rootDir())) {
      await ensureDirInside(this.root, dirname(path));
      return rm(path, { recursive: true, force: true });
    }
    await removeAt(await this.at(path), resolve(path));
  }

  /**
   * `error` (from any call on a path `at` handed out) naming the folders as the user knows them:
   * `/proc/self/fd/<fd>` says nothing about which cache, or which file of it, refused a write.
   * Rewritten in place (message, stack, path, dest), so its class and code stay.
   */
  named<T>(error: T): T {
    if (!(error instanceof Error)) return error;
    const fields = error as Error & Record<'message' | 'stack' | 'path' | 'dest', unknown>;
    const spell = (text: string) => text.replace(/\/proc\/self\/fd\/\d+(?=\/|'|$)/g, (at) => this.names.get(at) ?? at);
    // Only what names a descriptor's path is set: a DOMException (an abort's default reason, a
    // timeout's) has a message it cannot be given, and setting it would throw a TypeError instead.
    for (const key of ['message', 'stack', 'path', 'dest'] as const) {
      const text = fields[key];
      if (typeof text !== 'string') continue;
      const spelled = spell(text);
      if (spelled !== text) fields[key] = spelled;
    }
    return error;
  }

  /**
   * The descriptor of the folder `dir` (under `root`), made, checked and opened as `at` does,
   * held until `close`; undefined where /proc cannot reach a folder through its descriptor.
   */
  async descriptor(dir: string): Promise<number | undefined> {
    if (this.closed) throw new Error(`${this.root}: the cache's folders are closed`);
    relativeInside(this.root, dir);
    if (!(await this.rootDir())) return undefined;
    return this.fds.get(await this.dir(resolve(dir)));
  }

  /** Closes the folders' descriptors: call once nothing is being written through them. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.handles.splice(0).map((handle) => handle.close()));
  }

  /** The path reaching the root through its descriptor, or undefined where /proc/self/fd does not. */
  private rootDir(): Promise<string | undefined> {
    this.top ??= (async () => {
      const top = resolve(this.root);
      await mkdir(top, { recursive: true });
      const handle = await open(top, constants.O_RDONLY | constants.O_DIRECTORY); // the root is trusted, links and all
      const [held, seen] = await Promise.all([handle.stat(), stat(`/proc/self/fd/${handle.fd}`).catch(() => undefined)]);
      if (seen?.dev !== held.dev || seen.ino !== held.ino) {
        await handle.close();
        return undefined;
      }
      return this.hold(handle, top);
    })();
    return this.top;
  }

  /** The path reaching `dir` (resolved, under the root) through its descriptor, opened once. */
  private dir(dir: string): Promise<string> {
    let path = this.opened.get(dir);
    if (!path) {
      path = dir === resolve(this.root) ? (this.rootDir() as Promise<string>) : this.openBelow(dir);
      this.opened.set(dir, path);
    }
    return path;
  }

  /** Makes `dir` in its parent's descriptor and opens it, refusing a link (O_NOFOLLOW) or anything not a directory. */
  private async openBelow(dir: string): Promise<string> {
    const at = join(await this.dir(dirname(dir)), basename(dir));
    await mkdir(at).catch(ignoreExisting);
    const handle = await open(at, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch(async (error: NodeJS.ErrnoException) => {
      // Linux answers ENOTDIR for a link with O_DIRECTORY|O_NOFOLLOW, ELOOP elsewhere: lstat says which, named.
      if (error.code === 'ENOTDIR' || error.code === 'ELOOP' || error.code === 'EMLINK') assertRealDirectory(dir, await lstat(at));
      throw error; // a directory again by now: refused all the same
    });
    return this.hold(handle, dir);
  }

  /** The path through `handle`'s descriptor (which holds `dir`), kept open until `close`. */
  private async hold(handle: FileHandle, dir: string): Promise<string> {
    if (this.closed) {
      await handle.close(); // closed while it was opened: its number must not outlive close
      throw new Error(`${this.root}: the cache's folders are closed`);
    }
    this.handles.push(handle);
    const at = `/proc/self/fd/${handle.fd}`;
    this.names.set(at, dir);
    this.fds.set(at, handle.fd);
    return at;
  }
}

/** Makes the link `at` -> `target` where nothing is (synchronously: see DirsInside); false if something is there already. */
function makeLink(target: string, at: string): boolean {
  try {
    symlinkSync(target, at);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** How deep `removeAt` goes: a descriptor is held per level, and a planted tree may be deep (Python's `__pycache__` has no folders at all). */
const MAX_REMOVE_DEPTH = 32;

/**
 * Removes what `at` (a name in a folder held open) names, never following a link (DirsInside
 * `remove`): a directory is opened without following a link, emptied through its descriptor,
 * closed (a planted tree of many folders holds one descriptor per level, never one per folder,
 * and is refused past MAX_REMOVE_DEPTH levels), then removed by its name. Errors name `path`,
 * what the user knows it as.
 */
async function removeAt(at: string, path: string, depth = 0): Promise<void> {
  const spelled = (error: NodeJS.ErrnoException) => Promise.reject(Object.assign(error, { message: error.message.replaceAll(at, path), path }));
  const info = await lstat(at).catch(ignoreMissing);
  if (!info) return;
  if (!info.isDirectory()) return void (await unlink(at).catch(ignoreMissing).catch(spelled));
  const handle = await open(at, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOTDIR' || error.code === 'ELOOP' || error.code === 'EMLINK') assertRealDirectory(path, await lstat(at)); // a link now: refused, named
    return spelled(error);
  });
  try {
    if (depth >= MAX_REMOVE_DEPTH) throw new UnsafePathError(`refusing to remove ${path}: folders nested more than ${MAX_REMOVE_DEPTH} deep`);
    const inside = `/proc/self/fd/${handle.fd}`;
    for (const name of await readdir(inside)) await removeAt(join(inside, name), join(path, name), depth + 1);
  } finally {
    await handle.close();
  }
  await rmdir(at).catch(ignoreMissing).catch(spelled);
}

/** Whether `link` is a symbolic link whose target reads `target` (a missing link, or anything else, does not). */
export async function pointsAt(link: string, target: string): Promise<boolean> {
  return (await readlink(link).catch(() => undefined)) === target;
}

async function assertInside(root: string, real: string, path: string): Promise<void> {
  const top = await realpath(root);
  if (real !== top && !real.startsWith(top + sep)) throw new UnsafePathError(`refusing ${path}: it resolves to ${real}, outside ${root}`);
}
