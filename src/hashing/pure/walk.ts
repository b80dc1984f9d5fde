import { lstatSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileSlot } from '../../fs/file-slots.js';
import { DigestError } from '../errors.js';
import { fingerprintOf } from '../fingerprint.js';
import { TOP_LEVEL_EXCLUDED, type UnhashedEntry, type VariantEntry, type VariantTree } from '../tree.js';
import { compareByteOrder } from '../../digest/byte-order.js';
import { describeSystemError, errorCode } from '../system-error.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Walks the variant at `root` by the rules of docs/design.md section 3: the files to hash, sorted by
 * key in byte order, and every entry left out, with why. The TypeScript twin of
 * crates/engine/src/walk.rs: same rules, same errors. With `withCtime`, each entry's fingerprint
 * carries the change time too (src/kernels/hub/receipts.ts records it without a second stat), and
 * the files are stat'ed synchronously, in listing order: a second load of a kernel (getKernel)
 * is nearly only these stats, and one libuv round trip per file cost about twice as much as
 * the system call itself (1,000 files; README.md, Benchmarks: second loads). The event loop is let go every
 * {@link SYNC_STATS_PER_TURN} files, so a large variant does not hold it.
 */
export async function walkTree(root: string, signal?: AbortSignal, withCtime = false): Promise<VariantTree> {
  await checkRoot(root);
  const entries: VariantEntry[] = [];
  const unhashed: UnhashedEntry[] = [];
  const pending: Array<[dir: string, prefix: string]> = [[root, '']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    signal?.throwIfAborted();
    const [dir, prefix] = next;
    const listing = await withFileSlot(() => readdir(dir, { withFileTypes: true, encoding: 'buffer' })).catch((error: unknown) => {
      throw ioError(dir, 'read directory', error);
    });
    // Each item is first named and sorted by its type; the files (and symlinks) among them are
    // then stat'ed at once (libuv's pool), or one by one (withCtime), and taken in listing
    // order: the first failure in that order is the one reported.
    const sorted = listing.map((item): Found | StatRequest | Error => {
      const path = join(dir, item.name.toString());
      let name: string;
      try {
        name = strictUtf8.decode(item.name);
      } catch {
        return new DigestError('INVALID_NAME', path, 'file name is not valid UTF-8');
      }
      if (prefix === '' && TOP_LEVEL_EXCLUDED.has(name)) return undefined;
      const key = prefix === '' ? name : `${prefix}/${name}`;
      if (name.endsWith('.pyc')) return { path: key, reason: item.isDirectory() ? 'excluded-directory' : 'bytecode' };
      if (item.isDirectory()) {
        if (name === '__pycache__') return { path: key, reason: 'bytecode-directory' };
        pending.push([path, key]);
        return undefined;
      }
      if (item.isFile()) return { stat: path, key, follow: false, withCtime };
      if (item.isSymbolicLink()) return { stat: path, key, follow: true, withCtime };
      return { path: key, reason: 'special-file' }; // FIFOs, sockets, devices: never opened
    });
    const found = withCtime ? await statInTurns(sorted) : await Promise.allSettled(sorted.map((item) => (isStatRequest(item) ? statAsync(item) : item)));
    for (const settled of found) {
      if (settled.status === 'rejected') throw settled.reason;
      const entry = settled.value;
      if (entry instanceof Error) throw entry;
      if (entry && 'key' in entry) entries.push(entry);
      else if (entry) unhashed.push(entry);
    }
  }
  return {
    entries: entries.sort((a, b) => compareByteOrder(a.key, b.key)),
    unhashed: unhashed.sort((a, b) => compareByteOrder(a.path, b.path)),
  };
}

/** What the walk makes of one item of a listing (undefined: not an entry, e.g. a directory walked into). */
type Found = VariantEntry | UnhashedEntry | undefined;

/** A file, or a symlink (`follow`), that the walk must stat before it knows what it is. */
interface StatRequest {
  stat: string;
  key: string;
  follow: boolean;
  withCtime: boolean;
}

function isStatRequest(item: Found | StatRequest | Error): item is StatRequest {
  return item !== undefined && !(item instanceof Error) && 'stat' in item;
}

/** The entry of a stat'ed file, or (through a symlink) what else it led to. */
function statFound(request: StatRequest, info: BigIntStats): Found {
  if (info.isFile()) {
    const entry = { key: request.key, size: Number(info.size), fingerprint: fingerprintOf(info, request.withCtime) };
    return request.withCtime ? { ...entry, access: { dev: info.dev, uid: info.uid, mode: info.mode, nlink: info.nlink } } : entry;
  }
  return { path: request.key, reason: info.isDirectory() ? 'directory-symlink' : 'special-file' };
}

/** The error for a stat that failed: a file that cannot be stat'ed, or a symlink that cannot be followed. */
function statError(request: StatRequest, error: unknown): DigestError {
  return request.follow ? symlinkError(request.stat, error) : ioError(request.stat, 'stat', error);
}

function statAsync(request: StatRequest): Promise<Found> {
  const info = request.follow ? stat(request.stat, { bigint: true }) : lstat(request.stat, { bigint: true });
  return info.then(
    (found) => statFound(request, found),
    (error: unknown) => {
      throw statError(request, error);
    },
  );
}

/** Files stat'ed synchronously before the walk lets the event loop run (see {@link walkTree}). */
const SYNC_STATS_PER_TURN = 512;

/**
 * The items stat'ed synchronously, in order, as Promise.allSettled would settle them (the first
 * failure ends it), letting the event loop run every SYNC_STATS_PER_TURN stats.
 */
async function statInTurns(items: Array<Found | StatRequest | Error>): Promise<Array<PromiseSettledResult<Found | Error>>> {
  const found: Array<PromiseSettledResult<Found | Error>> = [];
  let stats = 0;
  for (const item of items) {
    if (!isStatRequest(item)) {
      found.push({ status: 'fulfilled', value: item });
      if (item instanceof Error) break;
      continue;
    }
    if (++stats % SYNC_STATS_PER_TURN === 0) await new Promise(setImmediate);
    try {
      found.push({ status: 'fulfilled', value: statFound(item, item.follow ? statSync(item.stat, { bigint: true }) : lstatSync(item.stat, { bigint: true })) });
    } catch (error) {
      found.push({ status: 'rejected', reason: statError(item, error) });
      break;
    }
  }
  return found;
}

/** Checks that `root` is a directory (following a symlink at the root itself). */
export async function checkRoot(root: string): Promise<void> {
  const info = await stat(root).catch((error: unknown) => {
    throw ioError(root, 'open the variant directory', error);
  });
  if (!info.isDirectory()) throw new DigestError('NOT_A_DIRECTORY', root, 'not a directory');
}

/** A Node system error as a DigestError, keeping "not found" distinct. */
export function ioError(path: string, action: string, error: unknown): DigestError {
  const code = errorCode(error) === 'ENOENT' ? 'NOT_FOUND' : 'IO';
  return new DigestError(code, path, `cannot ${action}: ${describeSystemError(error)}`, { cause: error });
}

/** Whether following a symlink failed because its target is missing or loops. */
export function isUnresolvable(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ELOOP';
}

/** A symlink whose target cannot be resolved; names the target it points at. */
export function danglingError(path: string, error: unknown): DigestError {
  let target = '?';
  try {
    target = readlinkSync(path);
  } catch {
    // keep '?'
  }
  return new DigestError('DANGLING_SYMLINK', path, `dangling symlink to ${target} (${describeSystemError(error)})`, { cause: error });
}

function symlinkError(path: string, error: unknown): DigestError {
  return isUnresolvable(error) ? danglingError(path, error) : ioError(path, 'follow symlink', error);
}
