import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DIGEST_LENGTH, assertDigestAlgorithm, type DigestAlgorithm } from '../../digest/algorithm.js';
import { checkShardSize, type DigestBackend, type FileHashes, type HashOptions, type HashProgress, type VariantHashes } from '../backend.js';
import { DigestError } from '../errors.js';
import { fingerprintOf, type FileFingerprint } from '../fingerprint.js';
import type { HashPool, PoolFile } from './pool.js';
import { PROGRESS_INTERVAL_MS } from '../progress.js';

let pool: HashPool | undefined;

/**
 * The walk, the file hashing (node:crypto) and the worker pool, imported when first used: a
 * process on the native backend, as the CLI mostly is, never loads them (they were a fifth of
 * the CPU time `kernelseal --version` took to start).
 */
async function parts() {
  const [walk, file, pool] = await Promise.all([import('./walk.js'), import('./file.js'), import('./pool.js')]);
  return { ...walk, ...file, ...pool };
}

/**
 * The digest backend in TypeScript: node:crypto (OpenSSL) for SHA-2 and blake3-wasm for BLAKE3,
 * on a pool of worker threads, one per core; the JavaScript thread only walks and collects.
 */
export const pureBackend: DigestBackend = {
  name: 'pure',
  details: 'node:crypto and blake3-wasm on worker threads',

  async hashVariant(algorithm, dir, options = {}) {
    assertDigestAlgorithm(algorithm);
    options.signal?.throwIfAborted();
    const { walkTree } = await parts();
    const { entries, unhashed } = await walkTree(dir, options.signal);
    const files = entries.map((entry) => ({ path: join(dir, entry.key), size: entry.size }));
    const digests = await runOnPool(algorithm, files, options);
    return { paths: entries.map((entry) => entry.key), digests, bytes: files.reduce((sum, file) => sum + file.size, 0), unhashed } satisfies VariantHashes;
  },

  async hashFile(path, algorithm, options = {}) {
    assertDigestAlgorithm(algorithm);
    options.signal?.throwIfAborted();
    const { ioError } = await parts();
    const size = await stat(path).then(
      (info) => info.size,
      (error: unknown) => {
        throw ioError(path, 'open', error);
      },
    );
    return runOnPool(algorithm, [{ path, size }], options);
  },

  async hashFiles(algorithm, paths, options = {}) {
    assertDigestAlgorithm(algorithm);
    const shardSize = checkShardSize(options.shardSize);
    options.signal?.throwIfAborted();
    const pieces: PoolFile[] = [];
    const sizes: number[] = [];
    for (const path of paths) {
      const listed = await listFile(path);
      const size = Number(listed.size);
      sizes.push(size);
      if (shardSize === undefined) pieces.push({ path, size, range: { start: 0, end: size, listed } });
      else {
        if (pieces.length + Math.ceil(size / shardSize) > MAX_PIECES) {
          throw new DigestError('TOO_MANY_SHARDS', path, `${size} bytes in shards of ${shardSize} make more than ${MAX_PIECES} shards`);
        }
        for (let start = 0; start < size; start += shardSize) {
          const end = Math.min(start + shardSize, size);
          pieces.push({ path, size: end - start, range: { start, end, listed } });
        }
      }
    }
    const digests = await runOnPool(algorithm, pieces, options);
    return { sizes, digests, bytes: sizes.reduce((sum, size) => sum + size, 0) } satisfies FileHashes;
  },

  async walkTree(dir, options = {}) {
    const { walkTree } = await parts();
    return walkTree(dir, options.signal, true);
  },
};

/** The most shards one job cuts its files into (crates/engine/src/files.rs MAX_PIECES). */
const MAX_PIECES = 2 ** 21;

/** A file's fingerprint before hashing (following symlinks); refuses anything but a regular file. */
async function listFile(path: string): Promise<FileFingerprint> {
  const { unreachablePath } = await parts();
  let info;
  try {
    info = await stat(path, { bigint: true });
  } catch (error) {
    throw unreachablePath(path, error, 'stat');
  }
  if (!info.isFile()) throw new DigestError('NOT_A_REGULAR_FILE', path, 'not a regular file');
  return fingerprintOf(info);
}

/**
 * Below this much work, files are hashed right here: starting the worker threads would cost
 * more (a few hundred ms) than the hashing, and the event loop is held for a few ms at most.
 */
const INLINE_MAX_BYTES = 4 * 1024 * 1024;
const INLINE_MAX_FILES = 64;

/** Hashes small jobs inline, others on the worker pool; the digests one after another. */
async function runOnPool(algorithm: DigestAlgorithm, files: PoolFile[], options: HashOptions): Promise<Uint8Array> {
  const bytes = files.reduce((sum, file) => sum + file.size, 0);
  if (bytes <= INLINE_MAX_BYTES && files.length <= INLINE_MAX_FILES) return hashInline(algorithm, files, bytes, options);
  return hashOnPool(algorithm, files, options);
}

/** The same per-file hashing as the workers, on this thread, yielding between files. */
async function hashInline(algorithm: DigestAlgorithm, files: PoolFile[], bytesTotal: number, { onProgress, signal }: HashOptions): Promise<Uint8Array> {
  const { hashFileSync } = await parts();
  const buffer = Buffer.allocUnsafe(256 * 1024);
  const digests = new Uint8Array(files.length * DIGEST_LENGTH[algorithm]);
  let bytesDone = 0;
  for (const [index, file] of files.entries()) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
    const digest = hashFileSync(file.path, algorithm, buffer, (n) => (bytesDone += n), () => signal?.aborted === true, file.range);
    signal?.throwIfAborted();
    digests.set(digest!, index * digest!.length);
  }
  onProgress?.({ bytesDone, filesDone: files.length, bytesTotal, filesTotal: files.length });
  return digests;
}

/** Runs one job on the pool with progress (at most every 100 ms, and at the end) and cancellation. */
async function hashOnPool(algorithm: DigestAlgorithm, files: PoolFile[], { onProgress, signal }: HashOptions): Promise<Uint8Array> {
  const { HashPool } = await parts();
  pool ??= new HashPool();
  const { done, counters } = pool.hash(algorithm, files);
  const totals = { bytesTotal: files.reduce((sum, f) => sum + f.size, 0), filesTotal: files.length };
  let callbackError: { error: unknown } | undefined;
  const report = (progress: HashProgress) => {
    try {
      onProgress?.(progress);
    } catch (error) {
      callbackError ??= { error };
      counters.cancel();
    }
  };
  const timer = onProgress ? setInterval(() => report({ bytesDone: counters.bytesDone(), filesDone: counters.filesDone(), ...totals }), PROGRESS_INTERVAL_MS) : undefined;
  const onAbort = () => counters.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const digests = await done;
    signal?.throwIfAborted(); // aborted before the result was handed over: as fetch() does
    report({ bytesDone: totals.bytesTotal, filesDone: totals.filesTotal, ...totals });
    if (callbackError) throw callbackError.error;
    return digests;
  } catch (error) {
    if (callbackError) throw callbackError.error;
    signal?.throwIfAborted();
    throw error;
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
