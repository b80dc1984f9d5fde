import { constants } from 'node:fs';
import { lstat, open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { assertDigestAlgorithm, type DigestAlgorithm } from './algorithm.js';
import type { DigestBackend, VariantHashes } from './backend.js';
import { DigestError } from './errors.js';
import { createHasher } from './hasher.js';
import { danglingError, ioError, isUnresolvable, walkVariant } from './walk.js';
import { ProgressReporter } from './progress.js';

/** Read buffer per concurrent file. */
const CHUNK = 1024 * 1024;
/** Files hashed at once: reads overlap with hashing; hashing itself runs on this thread. */
const CONCURRENCY = Math.max(2, Math.min(8, availableParallelism() * 2));
/** Non-blocking open: a FIFO swapped in after the walk cannot stall us; it is refused next. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** The digest backend in TypeScript: node:crypto for SHA-2, blake3-wasm for BLAKE3. */
export const pureBackend: DigestBackend = {
  name: 'pure',

  async hashVariant(algorithm, dir, options = {}) {
    assertDigestAlgorithm(algorithm);
    options.signal?.throwIfAborted();
    const entries = await walkVariant(dir);
    const progress = new ProgressReporter(options.onProgress, {
      bytesTotal: entries.reduce((sum, entry) => sum + entry.size, 0),
      filesTotal: entries.length,
    });
    const digests: Uint8Array[] = new Array(entries.length);
    // Once a file fails the digest is incomplete: stop starting files, report the first
    // failure in key order (as the native backend does).
    let failure: { index: number; error: unknown } | undefined;
    const fail = (index: number, error: unknown) => {
      if (!failure || index < failure.index) failure = { index, error };
    };
    let next = 0;
    const worker = async () => {
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (let index = next++; index < entries.length && !failure; index = next++) {
        try {
          digests[index] = await hashFileWith(join(dir, entries[index]!.key), algorithm, buffer, progress, options.signal);
          progress.fileDone();
        } catch (error) {
          fail(index, error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, entries.length) }, worker));
    options.signal?.throwIfAborted();
    if (failure) throw (failure as { error: unknown }).error;
    progress.finish();
    const files = new Map<string, Uint8Array>();
    entries.forEach((entry, index) => files.set(entry.key, digests[index]!));
    return { files, bytes: progress.bytesDone } satisfies VariantHashes;
  },

  async hashFile(path, algorithm, options = {}) {
    assertDigestAlgorithm(algorithm);
    options.signal?.throwIfAborted();
    const size = await stat(path).then((info) => info.size, () => 0);
    const progress = new ProgressReporter(options.onProgress, { bytesTotal: size, filesTotal: 1 });
    const digest = await hashFileWith(path, algorithm, Buffer.allocUnsafe(CHUNK), progress, options.signal);
    progress.filesDone = 1;
    progress.finish();
    return digest;
  },
};

/** Hashes one file into `buffer`-sized reads; refuses special files and files that change. */
async function hashFileWith(
  path: string,
  algorithm: DigestAlgorithm,
  buffer: Buffer,
  progress: ProgressReporter,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const handle = await openRegular(path);
  const hasher = createHasher(algorithm);
  try {
    const before = await handle.stat({ bigint: true });
    let total = 0n;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null).catch((error: unknown) => {
        throw ioError(path, 'read', error);
      });
      if (bytesRead === 0) break;
      hasher.update(buffer.subarray(0, bytesRead));
      total += BigInt(bytesRead);
      progress.addBytes(bytesRead);
    }
    const after = await handle.stat({ bigint: true });
    if (total !== before.size || after.size !== before.size || after.ino !== before.ino || after.mtimeNs !== before.mtimeNs) {
      throw new DigestError(
        'FILE_CHANGED',
        path,
        `file changed while it was hashed (size ${before.size} when opened, ${total} read, ${after.size} now)`,
      );
    }
    return hasher.digest();
  } finally {
    hasher.dispose();
    await handle.close();
  }
}

async function openRegular(path: string): Promise<FileHandle> {
  // Refuse special files before opening them: opening some devices has side effects.
  const info = await stat(path).catch(async (error: unknown) => {
    throw await notOpenable(path, error);
  });
  if (!info.isFile()) throw notRegular(path);
  const handle = await open(path, OPEN_FLAGS).catch(async (error: unknown) => {
    throw await notOpenable(path, error);
  });
  // Checked again on the open file: the path may have been swapped since the first check.
  const opened = await handle.stat();
  if (!opened.isFile()) {
    await handle.close();
    throw notRegular(path);
  }
  return handle;
}

function notRegular(path: string): DigestError {
  return new DigestError('NOT_A_REGULAR_FILE', path, 'not a regular file');
}

async function notOpenable(path: string, error: unknown): Promise<DigestError> {
  const isSymlink = await lstat(path).then((info) => info.isSymbolicLink(), () => false);
  return isSymlink && isUnresolvable(error) ? danglingError(path, error) : ioError(path, 'open', error);
}
