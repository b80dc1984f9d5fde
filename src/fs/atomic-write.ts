import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` so that readers see the old file or the new one, never a part:
 * a temporary file in the same directory, flushed to disk, then renamed over `path`.
 * Keeps the permissions of the regular file it replaces (not those of what a link there points
 * to, and never set-id bits: in a shared folder the old file may be someone else's plant).
 * Nothing is left behind on failure.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const existingMode = await lstat(path).then((info) => (info.isFile() ? info.mode & 0o777 : mode), () => mode);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // O_EXCL: a name someone planted is never opened, link or not; O_NOFOLLOW says so twice.
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, existingMode);
    try {
      await handle.chmod(existingMode); // open() applied the umask
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/**
 * Writes `data` to `path` only if nothing is there yet, whole or not at all: a temporary file
 * (mode `mode`, flushed), then linked into place. link() never replaces a file, so of two
 * processes writing at once exactly one wins and both then read the winner's. Returns whether
 * this call's file is the one in place.
 */
export async function writeFileOnce(path: string, data: string | Uint8Array, mode = 0o600): Promise<boolean> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    try {
      await handle.chmod(mode); // the umask may have taken bits away
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const won = await link(temp, path).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
        return false;
      },
    );
    if (won) await syncDirectory(dirname(path));
    return won;
  } finally {
    await rm(temp, { force: true });
  }
}

/** Makes a rename durable; some file systems do not support it, which is not an error. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
