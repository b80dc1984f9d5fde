import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readlink, realpath, rename, rm, symlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

/**
 * Writes into a directory tree that others may also write to (a shared Hugging Face cache):
 * every directory between `root` and the file must be a real directory, never a symlink, and the
 * file itself is never reached through a link we did not make. `root` itself is trusted (the
 * user named it); a link planted anywhere below it is refused with an error naming it.
 *
 * Node has no openat(), so a directory swapped for a link between the check and the write is
 * caught after the fact where it can be (the opened file's real path, below), not prevented.
 */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
  readonly code = 'UNSAFE_PATH' as const;
}

/** Makes `dir` (and its parents below `root`) as real directories, refusing any link on the way. */
export async function ensureDirInside(root: string, dir: string): Promise<void> {
  const top = resolve(root);
  const target = resolve(dir);
  const rel = relative(top, target);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new UnsafePathError(`refusing ${dir}: outside ${root}`);
  await mkdir(top, { recursive: true });
  let path = top;
  for (const part of rel === '' ? [] : rel.split(sep)) {
    path = resolve(path, part);
    await mkdir(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    const info = await lstat(path);
    if (info.isSymbolicLink()) throw new UnsafePathError(`refusing to write through ${path}: a symbolic link in the cache`);
    if (!info.isDirectory()) throw new UnsafePathError(`refusing to write through ${path}: not a directory`);
  }
  await assertInside(root, await realpath(target), dir);
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
  const temp = join(dirname(link), `.${basename(link)}.${randomBytes(6).toString('hex')}.tmp`);
  await symlink(target, temp); // fails on anything already there: it never follows a link
  try {
    await assertInside(root, await realpath(dirname(link)), link); // the directory was not swapped meanwhile
    await rename(temp, link); // replaces a link at `link` itself, never what it points to
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Opens (creating if missing) the regular file `path` for reading and writing without following
 * a link at `path` and without blocking on a FIFO planted there; anything but a regular file is
 * refused, named.
 */
export async function openRegular(path: string): Promise<FileHandle> {
  const flags = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const handle = await open(path, flags, 0o644).catch((error: NodeJS.ErrnoException) => {
    // ELOOP is what O_NOFOLLOW answers for a link (EMLINK on some BSDs).
    if (error.code === 'ELOOP' || error.code === 'EMLINK') throw new UnsafePathError(`refusing ${path}: a symbolic link`);
    throw error;
  });
  try {
    if (!(await handle.stat()).isFile()) throw new UnsafePathError(`refusing ${path}: not a regular file`);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** `openRegular` of `path` under `root`, through real directories, and really inside `root`. */
export async function openRegularInside(root: string, path: string): Promise<FileHandle> {
  await ensureDirInside(root, dirname(path));
  const handle = await openRegular(path);
  try {
    // Linux names the file a descriptor really opened: a directory swapped for a link since
    // ensureDirInside shows here. Elsewhere the check of real directories is all there is.
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (opened !== undefined) await assertInside(root, opened, path);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function assertInside(root: string, real: string, path: string): Promise<void> {
  const top = await realpath(root);
  if (real !== top && !real.startsWith(top + sep)) throw new UnsafePathError(`refusing ${path}: it resolves to ${real}, outside ${root}`);
}
