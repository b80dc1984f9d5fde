import { readlinkSync } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileSlot } from '../../fs/file-slots.js';
import { DigestError } from '../errors.js';
import { fingerprintOf } from '../fingerprint.js';
import { TOP_LEVEL_EXCLUDED, type UnhashedEntry, type VariantEntry, type VariantTree } from '../tree.js';
import { compareByteOrder } from '../../digest/byte-order.js';
import { describeSystemError, errorCode } from '../system-error.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });


/** Lists the files of the variant at `root`, sorted by key in byte order (see {@link walkTree}). */
export async function walkVariant(root: string, signal?: AbortSignal): Promise<VariantEntry[]> {
  return (await walkTree(root, signal)).entries;
}

/**
 * Walks the variant at `root` by the rules of docs/design.md section 3: the files to hash, sorted by
 * key in byte order, and every entry left out, with why. The TypeScript twin of
 * crates/engine/src/walk.rs: same rules, same errors. With `keepStats`, each entry keeps what
 * the walk saw of it (src/kernels/hub/receipts.ts fingerprints it without a second stat).
 */
export async function walkTree(root: string, signal?: AbortSignal, keepStats = false): Promise<VariantTree> {
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
    // The files of one directory are stat'ed at once (libuv's pool), then taken in listing
    // order: the first failure in that order is the one reported.
    const found = listing.map(async (item): Promise<VariantEntry | UnhashedEntry | undefined> => {
      const path = join(dir, item.name.toString());
      let name: string;
      try {
        name = strictUtf8.decode(item.name);
      } catch {
        throw new DigestError('INVALID_NAME', path, 'file name is not valid UTF-8');
      }
      if (prefix === '' && TOP_LEVEL_EXCLUDED.has(name)) return undefined;
      const key = prefix === '' ? name : `${prefix}/${name}`;
      if (name.endsWith('.pyc')) return { path: key, reason: item.isDirectory() ? 'excluded-directory' : 'bytecode' };
      if (item.isDirectory()) {
        if (name === '__pycache__') return { path: key, reason: 'bytecode-directory' };
        pending.push([path, key]);
        return undefined;
      }
      if (item.isFile()) {
        const info = await lstat(path, { bigint: true }).catch((error: unknown) => {
          throw ioError(path, 'stat', error);
        });
        return { key, size: Number(info.size), fingerprint: fingerprintOf(info), ...(keepStats ? { stats: info } : {}) };
      }
      if (item.isSymbolicLink()) {
        const target = await stat(path, { bigint: true }).catch((error: unknown) => {
          throw symlinkError(path, error);
        });
        if (target.isFile()) return { key, size: Number(target.size), fingerprint: fingerprintOf(target), ...(keepStats ? { stats: target } : {}) };
        return { path: key, reason: target.isDirectory() ? 'directory-symlink' : 'special-file' };
      }
      return { path: key, reason: 'special-file' }; // FIFOs, sockets, devices: never opened
    });
    for (const settled of await Promise.allSettled(found)) {
      if (settled.status === 'rejected') throw settled.reason;
      const entry = settled.value;
      if (entry && 'key' in entry) entries.push(entry);
      else if (entry) unhashed.push(entry);
    }
  }
  return {
    entries: entries.sort((a, b) => compareByteOrder(a.key, b.key)),
    unhashed: unhashed.sort((a, b) => compareByteOrder(a.path, b.path)),
  };
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
