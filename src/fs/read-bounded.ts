import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { withFileSlot } from './file-slots.js';

export type Read = { bytes: Uint8Array } | { missing: true } | { error: string };

/** Reads a whole file unless it is missing, not a regular file, or larger than `limit`. */
export function readBounded(path: string, limit: number): Promise<Read> {
  return withFileSlot(() => readWhole(path, limit));
}

/** Non-blocking: a FIFO planted under the name must not stall us; it is refused once opened. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

async function readWhole(path: string, limit: number): Promise<Read> {
  let handle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    return notOpened(path, error);
  }
  try {
    const info = await handle.stat();
    const problem = sizeProblem(path, info, limit);
    if (problem) return problem;
    const reads = boundedReads(info.size, limit);
    let step = reads.next();
    while (!step.done) {
      const { bytes, total } = step.value;
      step = reads.next((await handle.read(bytes, total, bytes.length - total, total)).bytesRead);
    }
    return whole(path, step.value, limit);
  } catch (error) {
    return { error: `cannot read ${path}: ${(error as Error).message}` };
  } finally {
    await handle.close();
  }
}

/**
 * readBounded, synchronously, with the same rules: for a few small files of the user's own
 * private state (src/kernels/publishers/client-state.ts), read on every warm open of a publisher
 * list, where each read through libuv's pool (five round trips) cost more than the open's work.
 */
export function readBoundedSync(path: string, limit: number): Read {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (error) {
    return notOpened(path, error);
  }
  try {
    const info = fstatSync(fd);
    const problem = sizeProblem(path, info, limit);
    if (problem) return problem;
    const reads = boundedReads(info.size, limit);
    let step = reads.next();
    while (!step.done) {
      const { bytes, total } = step.value;
      step = reads.next(readSync(fd, bytes, total, bytes.length - total, total));
    }
    return whole(path, step.value, limit);
  } catch (error) {
    return { error: `cannot read ${path}: ${(error as Error).message}` };
  } finally {
    closeSync(fd);
  }
}

function notOpened(path: string, error: unknown): Read {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? { missing: true } : { error: `cannot read ${path}: ${(error as Error).message}` };
}

function sizeProblem(path: string, info: { isFile(): boolean; size: number }, limit: number): Read | undefined {
  if (!info.isFile()) return { error: `${path} is not a regular file` };
  if (info.size > limit) return { error: `${path} is ${info.size} bytes, more than the ${limit} allowed` };
  return undefined;
}

interface Filled {
  bytes: Buffer;
  total: number;
}

/**
 * The bounded read loop, for both readers: each step asks for `bytes` to be filled from `total`
 * on (the answer: how many bytes were read, 0 at the end). Never more than limit + 1 bytes,
 * whatever the size says: a /proc file says 0 and is endless.
 */
function* boundedReads(size: number, limit: number): Generator<Filled, Filled, number> {
  let bytes = Buffer.allocUnsafe(Math.min(limit + 1, Math.max(size + 1, 64 * 1024)));
  let total = 0;
  for (;;) {
    if (total === bytes.length) {
      if (bytes.length > limit) break;
      const larger = Buffer.allocUnsafe(Math.min(limit + 1, bytes.length * 2));
      bytes.copy(larger, 0, 0, total);
      bytes = larger;
    }
    const read = yield { bytes, total };
    if (read === 0) break;
    total += read;
  }
  return { bytes, total };
}

function whole(path: string, { bytes, total }: Filled, limit: number): Read {
  if (total > limit) return { error: `${path} holds more than the ${limit} bytes allowed` };
  return { bytes: bytes.subarray(0, total) };
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
