import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileOnce } from '../../fs/atomic-write.js';
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

/** A fresh key, in a folder of its own (0700); of two processes creating it at once both end up with the one that won. */
async function createKey(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileOnce(path, randomBytes(KEY_BYTES), 0o600);
}
