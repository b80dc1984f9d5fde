import { loadAddonExports } from '../../addon.js';
import { DIGEST_LENGTH, type DigestAlgorithm } from '../../digest/algorithm.js';
import { checkShardSize, type DigestBackend, type FileHashes, type HashOptions, type HashProgress, type VariantHashes } from '../backend.js';
import { DigestError, type DigestErrorCode } from '../errors.js';
import type { UnhashedEntry, VariantEntry, VariantTree } from '../tree.js';

/** The addon's exports (crates/addon/src/lib.rs). */
interface NativeAddon {
  /** An exclusive flock without waiting: true when taken (released by closing the descriptor). */
  tryLockFile(fd: number): boolean;
  hashVariant(
    algorithm: DigestAlgorithm,
    dir: string,
    onProgress: NativeProgress | undefined,
    cancelToken: unknown,
  ): Promise<{ paths: string[]; digests: Buffer; bytes: number; unhashed: UnhashedEntry[] }>;
  hashFile(
    path: string,
    algorithm: DigestAlgorithm,
    onProgress: NativeProgress | undefined,
    cancelToken: unknown,
  ): Promise<{ digest: Buffer; bytes: number }>;
  hashFiles(
    algorithm: DigestAlgorithm,
    paths: readonly string[],
    shardSize: number,
    onProgress: NativeProgress | undefined,
    cancelToken: unknown,
  ): Promise<{ sizes: number[]; digests: Buffer; bytes: number }>;
  /** The walk alone; `stats` packs STAT_FIELDS native-endian int64 per path (see {@link entriesOf}). */
  walkTree(dir: string, cancelToken: unknown): Promise<{ paths: string[]; stats: Buffer; unhashed: UnhashedEntry[] }>;
  createCancelToken(): unknown;
  cancel(token: unknown): void;
  engineInfo(): { sha2: string; threads: number };
}

type NativeProgress = (bytesDone: number, filesDone: number, bytesTotal: number, filesTotal: number) => void;

/**
 * Loads the addon (src/addon.ts: the one built in this package, else the prebuilt platform
 * package), typed as the digest engine calls it. Throws with every place tried and why it failed.
 */
export function loadAddon(): NativeAddon {
  return loadAddonExports() as NativeAddon;
}

/** The Rust engine behind Node-API: hashing runs off the JavaScript thread, in parallel. */
export function createNativeBackend(addon: NativeAddon = loadAddon()): DigestBackend {
  const info = addon.engineInfo();
  return {
    name: 'native',
    details: `sha2: ${info.sha2}, ${info.threads} threads`,
    // Not what kernelseal locks with (src/fs/file-lock.ts decides, whatever backend hashes): kept for callers of the API.
    lockFile: typeof addon.tryLockFile === 'function' ? (fd) => addon.tryLockFile(fd) : undefined,

    async hashVariant(algorithm, dir, options = {}) {
      const result = await run(
        addon,
        options,
        (progress, token) => addon.hashVariant(algorithm, dir, progress, token),
        ({ paths, bytes }) => done(bytes, paths.length),
      );
      return result satisfies VariantHashes;
    },

    async hashFile(path, algorithm, options = {}) {
      const result = await run(
        addon,
        options,
        (progress, token) => addon.hashFile(path, algorithm, progress, token),
        ({ bytes }) => done(bytes, 1),
      );
      return result.digest;
    },

    async hashFiles(algorithm, paths, options = {}) {
      const shardSize = checkShardSize(options.shardSize);
      const result = await run(
        addon,
        options,
        (progress, token) => addon.hashFiles(algorithm, paths, shardSize ?? 0, progress, token),
        ({ bytes, digests }) => done(bytes, digests.length / DIGEST_LENGTH[algorithm]),
      );
      return result satisfies FileHashes;
    },

    async walkTree(dir, options = {}) {
      const { paths, stats, unhashed } = await run(
        addon,
        options,
        (_, token) => addon.walkTree(dir, token),
        ({ paths }) => done(0, paths.length),
      );
      return { entries: entriesOf(paths, stats), unhashed } satisfies VariantTree;
    },
  };
}

/** Native-endian int64 per path in a native walk's `stats` (crates/addon/src/lib.rs `STAT_FIELDS`). */
const STAT_FIELDS = 10;

/**
 * The entries of a native walk: `stats` holds, per path, the size, inode, mtime (seconds,
 * nanoseconds) and ctime (seconds, nanoseconds) of crates/engine/src/file.rs `Fingerprint`, then
 * the device, uid, mode and link count of crates/engine/src/walk.rs `Access`, as native-endian
 * int64 (a BigInt64Array reads them); the times in nanoseconds as BigIntStats spells them
 * (FileFingerprint).
 */
function entriesOf(paths: string[], stats: Buffer): VariantEntry[] {
  if (stats.length !== paths.length * STAT_FIELDS * 8) throw new Error(`the addon's walk packed ${stats.length} bytes for ${paths.length} paths: a stale addon build?`);
  // One aligned copy read as int64 words (the addon's buffer need not be 8-byte aligned): reading
  // ten fields a file one by one from the Buffer cost as much as the rest of a second load's walk.
  const words = new BigInt64Array(new Uint8Array(stats).buffer);
  const field = (index: number, at: number) => words[index * STAT_FIELDS + at]!;
  const unsigned = (index: number, at: number) => BigInt.asUintN(64, field(index, at));
  const ns = (index: number, at: number) => field(index, at) * 1_000_000_000n + field(index, at + 1);
  return paths.map((key, index) => {
    const size = field(index, 0);
    return {
      key,
      size: Number(size),
      fingerprint: { size, ino: unsigned(index, 1), mtimeNs: ns(index, 2), ctimeNs: ns(index, 4) },
      access: { dev: unsigned(index, 6), uid: field(index, 7), mode: field(index, 8), nlink: unsigned(index, 9) },
    };
  });
}

/**
 * Runs one addon call with cancellation and progress: aborting `signal` cancels the work in
 * Rust; an exception from `onProgress` cancels it too and becomes the rejection.
 */
async function run<T>(
  addon: NativeAddon,
  { onProgress, signal }: HashOptions,
  call: (progress: NativeProgress | undefined, token: unknown) => Promise<T>,
  finalProgress: (result: T) => HashProgress,
): Promise<T> {
  signal?.throwIfAborted();
  const token = addon.createCancelToken();
  const onAbort = () => addon.cancel(token);
  signal?.addEventListener('abort', onAbort, { once: true });
  let callbackError: { error: unknown } | undefined;
  const progress: NativeProgress | undefined = onProgress
    ? (bytesDone, filesDone, bytesTotal, filesTotal) => {
        try {
          onProgress({ bytesDone, filesDone, bytesTotal, filesTotal });
        } catch (error) {
          callbackError ??= { error };
          addon.cancel(token);
        }
      }
    : undefined;
  try {
    const result = await call(progress, token);
    if (callbackError) throw callbackError.error;
    signal?.throwIfAborted(); // aborted before the result was handed over: as fetch() does
    onProgress?.(finalProgress(result));
    return result;
  } catch (error) {
    if (callbackError) throw callbackError.error;
    signal?.throwIfAborted();
    throw toDigestError(error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function done(bytes: number, files: number): HashProgress {
  return { bytesDone: bytes, filesDone: files, bytesTotal: bytes, filesTotal: files };
}

/** The one code of an internal error, as the addon's errors carry it. */
export type EngineInternalErrorCode = 'ERR_KERNELSEAL_INTERNAL';

/**
 * A bug in the native engine or addon (a panic), caught before it could abort the process.
 * It names the interrupted `operation` and says nothing about the files hashed: never turn it
 * into a verdict (`hash-failed`) about them.
 */
export class EngineInternalError extends Error {
  override readonly name = 'EngineInternalError';
  readonly code: EngineInternalErrorCode = 'ERR_KERNELSEAL_INTERNAL';
  constructor(
    readonly operation: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Engine errors carry `code`, `path` and `reason`; internal errors (no path: they are about no
 * file) become EngineInternalError; argument errors pass through unchanged.
 */
function toDigestError(error: unknown): unknown {
  const { code, path, reason, operation, message } = (error ?? {}) as Record<string, unknown>;
  if (code === 'ERR_KERNELSEAL_INTERNAL' && typeof operation === 'string' && typeof message === 'string') {
    return new EngineInternalError(operation, message);
  }
  if (typeof path === 'string' && typeof reason === 'string' && typeof code === 'string' && code !== 'CANCELLED') {
    return new DigestError(code as DigestErrorCode, path, reason);
  }
  return error;
}
