import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { withFileSlot } from './file-slots.js';

export type Read = { bytes: Uint8Array } | { missing: true } | { error: string };

/** Reads a whole file unless it is missing, not a regular file, or larger than `limit`. */
export function readBounded(path: string, limit: number): Promise<Read> {
  return withFileSlot(() => readWhole(path, limit));
}

async function readWhole(path: string, limit: number): Promise<Read> {
  let handle;
  try {
    // Non-blocking: a FIFO planted under the name must not stall us; it is refused below.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { missing: true } : { error: `cannot read ${path}: ${(error as Error).message}` };
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { error: `${path} is not a regular file` };
    if (info.size > limit) return { error: `${path} is ${info.size} bytes, more than the ${limit} allowed` };
    // Never more than limit + 1 bytes, whatever the size says: a /proc file says 0 and is endless.
    const buffer = Buffer.allocUnsafe(Math.min(limit + 1, Math.max(info.size + 1, 64 * 1024)));
    let bytes = buffer;
    let total = 0;
    for (;;) {
      if (total === bytes.length) {
        if (bytes.length > limit) break;
        const grown = Buffer.allocUnsafe(Math.min(limit + 1, bytes.length * 2));
        bytes.copy(grown, 0, 0, total);
        bytes = grown;
      }
      const { bytesRead } = await handle.read(bytes, total, bytes.length - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    if (total > limit) return { error: `${path} holds more than the ${limit} bytes allowed` };
    return { bytes: bytes.subarray(0, total) };
  } catch (error) {
    return { error: `cannot read ${path}: ${(error as Error).message}` };
  } finally {
    await handle.close();
  }
}

/**
 * The first `length` bytes of a file (fewer if it is shorter), refusing anything but a regular
 * file; FIFO-safe as readBounded.
 */
export function readHead(path: string, length: number): Promise<{ bytes: Uint8Array } | { error: string }> {
  return withFileSlot(async () => {
    let handle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      return { error: `cannot read ${path}: ${(error as Error).message}` };
    }
    try {
      if (!(await handle.stat()).isFile()) return { error: `${path} is not a regular file` };
      const bytes = Buffer.alloc(length);
      let total = 0;
      while (total < length) {
        const { bytesRead } = await handle.read(bytes, total, length - total, total);
        if (bytesRead === 0) break;
        total += bytesRead;
      }
      return { bytes: bytes.subarray(0, total) };
    } catch (error) {
      return { error: `cannot read ${path}: ${(error as Error).message}` };
    } finally {
      await handle.close();
    }
  });
}
