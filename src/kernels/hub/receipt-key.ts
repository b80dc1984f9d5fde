import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { userStateDir } from '../../fs/user-state.js';

const KEY_BYTES = 32;

/**
 * The key that authenticates verification receipts (src/kernels/hub/receipts.ts). Receipts live in the
 * cache, which other users may write to; the key lives outside it, readable by this user only:
 * KERNELSEAL_RECEIPT_KEY_FILE, else receipt.key in the user's state folder (src/fs/user-state.ts).
 * Created on first use.
 */
export function receiptKeyPath(): string {
  return process.env.KERNELSEAL_RECEIPT_KEY_FILE ?? join(userStateDir(), 'receipt.key');
}

/**
 * The receipt key, created if missing, or why it cannot be trusted: it must be a regular file
 * (not a link), owned by this user, mode 0600, of exactly 32 bytes. Without it no receipt is
 * trusted and every load re-hashes.
 */
export async function readReceiptKey(path = receiptKeyPath()): Promise<{ key: Buffer } | { refused: string }> {
  const refused = (reason: string) => ({ refused: `the receipt key ${path} ${reason}; receipts are not trusted, every load re-hashes` });
  const uid = process.getuid?.();
  if (uid === undefined) return refused('cannot be checked for ownership on this platform');
  try {
    let handle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await createKey(path);
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) return refused('is not a regular file');
      if (info.uid !== uid) return refused(`is owned by uid ${info.uid}, not by this user (${uid})`);
      if ((info.mode & 0o777) !== 0o600) return refused(`has mode ${(info.mode & 0o777).toString(8)}, not 600`);
      if (info.size !== KEY_BYTES) return refused(`is ${info.size} bytes, not ${KEY_BYTES}`);
      const key = Buffer.alloc(KEY_BYTES);
      const { bytesRead } = await handle.read(key, 0, KEY_BYTES, 0);
      return bytesRead === KEY_BYTES ? { key } : refused('was cut short while read');
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return refused(code === 'ELOOP' || code === 'EMLINK' ? 'is a symbolic link' : `cannot be read: ${(error as Error).message}`);
  }
}

/**
 * Writes a fresh key under a temporary name, then links it into place: link() never replaces a
 * file, so of two processes creating the key at once both end up with the one that won.
 */
async function createKey(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await handle.chmod(0o600); // the umask may have taken bits away
      await handle.writeFile(randomBytes(KEY_BYTES));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(temp, { force: true });
  }
}
