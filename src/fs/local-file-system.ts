import { open, statfs } from 'node:fs/promises';

/**
 * File systems whose every write goes through this machine's kernel, which enforces the owner
 * and mode a stat shows, by their Linux `statfs` type (linux/magic.h): disks, memory, and the
 * read-only images and container layers made of them. Anything else is not local: on NFS, SMB,
 * Ceph, Lustre or 9p another machine writes without our kernel seeing it, and on FUSE (sshfs,
 * virtiofs, s3 mounts) a server answers every stat and every read as it likes. FAT, exFAT and
 * NTFS only pretend to have owners (a mount option says whose every file is), so they are left
 * out too. Unknown means not local.
 */
const LOCAL_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext2/ext3/ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0x858458f6, 'ramfs'],
  [0xf2f52010, 'f2fs'],
  [0x2fc12fc1, 'zfs'],
  [0xca451a4e, 'bcachefs'],
  [0x3153464a, 'jfs'],
  [0x52654973, 'reiserfs'],
  [0x3434, 'nilfs2'],
  [0x73717368, 'squashfs'],
  [0xe0f5e1e2, 'erofs'],
  // A container's root: its layers are this machine's own disks (an overlay over a network
  // share is possible, but then the share is mounted on this machine, as root decided).
  [0x794c7630, 'overlay'],
]);

/** Linux's O_PATH (its generic value): a descriptor naming a file without opening it, so no device is ever opened by it. */
const O_PATH = 0o10000000; // libuv adds O_CLOEXEC

/**
 * Whether files are on a local file system, by device: each device is asked once (one per
 * instance, so once per load), through a file of it.
 *
 * The question is asked of an open descriptor, never of a path: `statfs` of a path that another
 * user swaps between our `stat` and our `statfs` (a link they re-point) would describe another
 * file system than the one the stat came from. So the file is opened (O_PATH: nothing is read,
 * no device is opened), its device read from the descriptor, and the file system named through
 * `/proc/self/fd/<fd>`, which is the opened file whatever its path now leads to. The device
 * numbers a stat reports are the kernel's, not a FUSE server's: a device found local stays so
 * for every file a stat says lives on it.
 *
 * Linux only: elsewhere (and without /proc) no file system is known to be local.
 */
export class LocalDevices {
  private readonly devices = new Map<bigint, Promise<boolean>>();

  /** Whether `path`, which a stat (links followed) just found on device `dev`, lives on a local file system. */
  isLocal(path: string, dev: bigint): Promise<boolean> {
    let local = this.devices.get(dev);
    if (!local) {
      local = process.platform === 'linux' ? probe(path, dev) : Promise.resolve(false);
      this.devices.set(dev, local);
    }
    return local;
  }
}

/** Whether the file at `path` is still on device `dev`, and that device's file system is a local one. */
async function probe(path: string, dev: bigint): Promise<boolean> {
  const handle = await open(path, O_PATH).catch(() => undefined);
  if (!handle) return false;
  try {
    // Another file now (a link re-pointed since the stat): no answer about `dev`, so not local.
    if ((await handle.stat({ bigint: true })).dev !== dev) return false;
    const { type } = await statfs(`/proc/self/fd/${handle.fd}`, { bigint: true });
    return LOCAL_FILE_SYSTEMS.has(Number(BigInt.asUintN(32, type)));
  } catch {
    return false;
  } finally {
    await handle.close();
  }
}
