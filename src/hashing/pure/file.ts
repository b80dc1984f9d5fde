import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs';
import type { DigestAlgorithm } from '../../digest/algorithm.js';
import { DigestError } from '../errors.js';
import { changedAfterListed, changedWhileRead, fingerprintChanged, fingerprintOf, holdsMoreThanSize, type FileFingerprint } from '../fingerprint.js';
import { createHasher } from '../hasher.js';
import { danglingError, ioError, isUnresolvable } from './walk.js';

/** Non-blocking open: a FIFO swapped in after the walk cannot stall us; it is refused next. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** A byte range [start, end) of a file that must still be as it was `listed`. */
export interface FileRange {
  start: number;
  end: number;
  listed: FileFingerprint;
}

/**
 * Hashes one file (following symlinks), or the byte `range` of it, into `buffer`-sized reads:
 * the TypeScript twin of crates/engine/src/file.rs, same rules, same errors. Refuses anything
 * but a regular file, a file whose fingerprint (../fingerprint.ts) changes while it is read,
 * and for a range one that changed since it was listed. Returns undefined when `cancelled()`
 * turns true between reads.
 */
export function hashFileSync(
  path: string,
  algorithm: DigestAlgorithm,
  buffer: Buffer,
  onBytes: (bytes: number) => void,
  cancelled: () => boolean,
  range?: FileRange,
): Uint8Array | undefined {
  const fd = openRegular(path);
  const hasher = createHasher(algorithm);
  try {
    const before = fingerprintOf(fstatSync(fd, { bigint: true }));
    if (range && (fingerprintChanged(range.listed, before) || BigInt(range.end) > range.listed.size)) {
      throw changedAfterListed(path, range.listed, before);
    }
    const start = range?.start ?? 0;
    const length = range ? BigInt(range.end - range.start) : before.size;
    let total = 0n;
    while (total < length) {
      if (cancelled()) return undefined;
      const want = Number(length - total < BigInt(buffer.length) ? length - total : BigInt(buffer.length));
      let bytesRead: number;
      try {
        // Positioned reads for a range; plain sequential reads for a whole file.
        bytesRead = readSync(fd, buffer, 0, want, range ? start + Number(total) : null);
      } catch (error) {
        throw ioError(path, 'read', error);
      }
      if (bytesRead === 0) break;
      hasher.update(buffer.subarray(0, bytesRead));
      total += BigInt(bytesRead);
      onBytes(bytesRead);
    }
    // Read past the size the file claims: a /proc or /sys file says 0 bytes and holds more, and
    // Python would read all of it (the engine's file.rs makes the same check).
    const reachesEnd = !range || BigInt(range.end) === range.listed.size;
    const more = reachesEnd && total === length && readBeyond(fd, buffer, range ? start + Number(total) : null, path) > 0;
    const after = fingerprintOf(fstatSync(fd, { bigint: true }));
    if (total !== length || fingerprintChanged(before, after)) throw changedWhileRead(path, 'hashed', before, after);
    if (more) throw holdsMoreThanSize(path, before.size);
    return hasher.digest();
  } finally {
    hasher.dispose();
    closeSync(fd);
  }
}

function openRegular(path: string): number {
  // Refuse special files before opening them: opening some devices has side effects.
  let info;
  try {
    info = statSync(path);
  } catch (error) {
    throw unreachablePath(path, error);
  }
  if (!info.isFile()) throw notRegular(path);
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    throw unreachablePath(path, error);
  }
  // Checked again on the open file: the path may have been swapped since the first check.
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw notRegular(path);
  }
  return fd;
}

function notRegular(path: string): DigestError {
  return new DigestError('NOT_A_REGULAR_FILE', path, 'not a regular file');
}

/** The error for a path that cannot be reached to `action` it: a dangling symlink says so. */
export function unreachablePath(path: string, error: unknown, action = 'open'): DigestError {
  let isSymlink = false;
  try {
    isSymlink = lstatSync(path).isSymbolicLink();
  } catch {
    // not there at all
  }
  return isSymlink && isUnresolvable(error) ? danglingError(path, error) : ioError(path, action, error);
}

function readBeyond(fd: number, buffer: Buffer, position: number | null, path: string): number {
  try {
    return readSync(fd, buffer, 0, 1, position);
  } catch (error) {
    throw ioError(path, 'read', error);
  }
}
