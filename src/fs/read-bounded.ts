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
    const bytes = await handle.readFile();
    if (bytes.length > limit) return { error: `${path} grew past ${limit} bytes while read` };
    return { bytes };
  } catch (error) {
    return { error: `cannot read ${path}: ${(error as Error).message}` };
  } finally {
    await handle.close();
  }
}
