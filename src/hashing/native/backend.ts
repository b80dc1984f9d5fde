import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
  /** The walk alone; `seen` packs SEEN_FIELDS native-endian int64 per path (see {@link entriesSeen}). */
  walkTree(dir: string, cancelToken: unknown): Promise<{ paths: string[]; seen: Buffer; unhashed: UnhashedEntry[] }>;
  createCancelToken(): unknown;
  cancel(token: unknown): void;
  engineInfo(): { sha2: string; threads: number };
}

type NativeProgress = (bytesDone: number, filesDone: number, bytesTotal: number, filesTotal: number) => void;

const require = createRequire(import.meta.url);

/** The platform part of the addon's name, napi-rs style: `linux-x64-gnu`, `darwin-arm64`. */
export function platformTriple(): string {
  const { platform, arch } = process;
  return platform === 'linux' ? `${platform}-${arch}-${linuxLibc()}` : `${platform}-${arch}`;
}

/**
 * The C library this Linux process runs on: the one it has mapped (/proc/self/maps, read in a
 * fraction of a millisecond), else what the diagnostic report says, which takes milliseconds to
 * make (every command that hashes loads the addon: kernelseal --version must start at once).
 */
function linuxLibc(): 'gnu' | 'musl' {
  try {
    const maps = readFileSync('/proc/self/maps', 'latin1');
    if (maps.includes('/ld-musl-')) return 'musl';
    if (maps.includes('/libc.so.6\n')) return 'gnu';
  } catch {
    // No /proc: ask the report.
  }
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'gnu' : 'musl';
}

/**
 * Loads the addon: the one built in this package (`kernelseal.<triple>.node`), else the
 * prebuilt platform package (`@kernelseal/binding-<triple>`, see npm/). Throws with every
 * place tried and why it failed.
 */
export function loadAddon(): NativeAddon {
  const triple = platformTriple();
  const local = fileURLToPath(new URL(`../../../kernelseal.${triple}.node`, import.meta.url));
  const candidates = [local, `@kernelseal/binding-${triple}`];
  const failures: string[] = [];
  for (const candidate of candidates) {
    if (candidate === local && !existsSync(local)) {
      failures.push(`${local}: not built`);
      continue;
    }
    try {
      return require(candidate) as NativeAddon;
    } catch (error) {
      failures.push(`${candidate}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  throw new Error(`the native digest addon is not available for ${triple}:\n  ${failures.join('\n  ')}`);
}

/** The Rust engine behind Node-API: hashing runs off the JavaScript thread, in parallel. */
export function createNativeBackend(addon: NativeAddon = loadAddon()): DigestBackend {
  const info = addon.engineInfo();
  return {
    name: 'native',
    details: `sha2: ${info.sha2}, ${info.threads} threads`,
    lockFile: fileLocker(addon),

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
      const { paths, seen, unhashed } = await run(
        addon,
        options,
        (_, token) => addon.walkTree(dir, token),
        ({ paths }) => done(0, paths.length),
      );
      return { entries: entriesSeen(paths, seen), unhashed } satisfies VariantTree;
    },
  };
}

/** Little-endian int64 per path in a native walk's `seen` (crates/addon/src/lib.rs `SEEN_FIELDS`). */
const SEEN_FIELDS = 10;

/**
 * The entries of a native walk: `seen` holds, per path, the size, inode, mtime (seconds,
 * nanoseconds) and ctime (seconds, nanoseconds) of crates/engine/src/walk.rs `Seen`, then the
 * device, uid, mode and link count of its `Access`, as native-endian int64 (a BigInt64Array reads them); the times in
 * nanoseconds as BigIntStats spells them.
 */
function entriesSeen(paths: string[], seen: Buffer): VariantEntry[] {
  if (seen.length !== paths.length * SEEN_FIELDS * 8) throw new Error(`the addon's walk packed ${seen.length} bytes for ${paths.length} paths: a stale addon build?`);
  // One aligned copy read as int64 words (the addon's buffer need not be 8-byte aligned): reading
  // ten fields a file one by one from the Buffer cost as much as the rest of a second load's walk.
  const words = new BigInt64Array(new Uint8Array(seen).buffer);
  const field = (index: number, at: number) => words[index * SEEN_FIELDS + at]!;
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

/**
 * The addon's exclusive, non-waiting `flock` (Node has none; the backend's `lockFile`), or
 * undefined without the addon (the Hub cache then falls back to lock files it creates:
 * src/kernels/hub/cache.ts).
 */
export function fileLocker(loaded?: NativeAddon): ((fd: number) => boolean) | undefined {
  if (loaded) return typeof loaded.tryLockFile === 'function' ? (fd) => loaded.tryLockFile(fd) : undefined;
  // Asked once per process: loading the addon looks the platform and the file up, and the Hub
  // cache asks for every blob it locks.
  if (locker === null) {
    try {
      const addon = loadAddon();
      locker = typeof addon.tryLockFile === 'function' ? (fd) => addon.tryLockFile(fd) : undefined;
    } catch {
      locker = undefined;
    }
  }
  return locker;
}

let locker: ((fd: number) => boolean) | undefined | null = null;
