import type { BigIntStats } from 'node:fs';
import { LocalDevices } from '../../fs/local-file-system.js';

/**
 * Which files a load may trust to hold, later, the bytes it once hashed: those nobody but the
 * loading user (and root) can change. A receipt (src/kernels/hub/receipts.ts) and a hash taken
 * as a download streamed in (src/kernels/hub/skip-hashing.ts) vouch only for such files;
 * anything else is hashed in full on every load.
 *
 * Why the file's times are not enough: a write through a shared writable mapping into a page
 * that is already dirty changes neither mtime nor ctime. So whoever can open a file for writing
 * can change it unseen by any fingerprint. A file is trusted only when no one else can:
 *
 * - a regular file owned by the loading user or by root (who can change anything anyway);
 * - no group or other write bit (with POSIX ACLs, the group bits are the ACL's mask, so a named
 *   user or group granted writing shows there too);
 * - one name: a second name is a way to the file we never see;
 * - on a local file system (src/fs/local-file-system.ts): on a network share or FUSE, the owner
 *   and mode are a server's word, and another machine (or the server) writes unseen.
 *
 * What this does not cover (SECURITY.md): a process of the loading user itself, and a process
 * that opened the file for writing while it was still writable by others, before a chmod or
 * chown made it the user's alone (the receipt then vouches for the file as that process leaves
 * it): do not take over, by chmod or chown, files others could write; fetch them again.
 */
export class SoleWriter {
  private readonly devices = new LocalDevices();
  private readonly uid = process.geteuid?.();

  /** Whether `info` (a stat of `path` with `{ bigint: true }`, links followed) is a file only we and root can change. */
  async owns(path: string, info: BigIntStats): Promise<boolean> {
    if (this.uid === undefined || !info.isFile()) return false; // no owners to check (Windows)
    if (info.uid !== BigInt(this.uid) && info.uid !== 0n) return false;
    if ((info.mode & 0o022n) !== 0n) return false;
    if (info.nlink !== 1n) return false;
    return this.devices.isLocal(path, info.dev);
  }
}
