"""A FUSE file system that lies, as any FUSE or network file system server can: it serves the
files of a backing folder (one level, read-only), reading their bytes afresh on every read, but
reports attributes it fixed when it started (inode, size, times) and the owner and mode it was
told. A test changes a backing file; the mount shows new bytes under the same inode, size,
times, owner and mode: what a server (sshfs, an s3 mount, a network share) can do to a cache
that lives on it.

Speaks the kernel's FUSE protocol on /dev/fuse directly (no libfuse), so it needs root:
    python3 fuse-lying.py MOUNTPOINT BACKING_DIR UID GID
Prints "mounted" once it serves; unmount (umount -l) to stop it.
    python3 fuse-lying.py --probe EMPTY_DIR
exits 0 if a FUSE file system can be mounted here at all (a container may forbid it).
"""

import ctypes
import errno
import os
import stat
import struct
import sys

MS_NOSUID, MS_NODEV, MNT_DETACH = 2, 4, 2
libc = ctypes.CDLL(None, use_errno=True)


def mount(fuse, target):
    options = f'fd={fuse},rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions'.encode()
    return libc.mount(b'kernelseal-lying', target.encode(), b'fuse', MS_NOSUID | MS_NODEV, options) == 0


if sys.argv[1] == '--probe':
    try:
        fuse = os.open('/dev/fuse', os.O_RDWR)
    except OSError:
        sys.exit(1)
    ok = mount(fuse, sys.argv[2])
    if ok:
        libc.umount2(sys.argv[2].encode(), MNT_DETACH)
    sys.exit(0 if ok else 1)

mountpoint, backing, uid, gid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

# Opcodes (linux/fuse.h).
LOOKUP, FORGET, GETATTR, OPEN, READ, STATFS, RELEASE, FLUSH, INIT, OPENDIR, RELEASEDIR, ACCESS, INTERRUPT, DESTROY, BATCH_FORGET = (
    1, 2, 3, 14, 15, 17, 18, 25, 26, 27, 29, 34, 36, 38, 42)
NO_REPLY = {FORGET, BATCH_FORGET, INTERRUPT}
FOPEN_DIRECT_IO = 1  # every read comes to us: no page cache to hide a change
FUSE_ROOT = 1

names = sorted(n for n in os.listdir(backing) if os.path.isfile(os.path.join(backing, n)))
nodes = {name: FUSE_ROOT + 1 + i for i, name in enumerate(names)}
paths = {node: os.path.join(backing, name) for name, node in nodes.items()}
# The attributes each file will always be said to have: as it was when we started.
fixed = {node: os.stat(path) for node, path in paths.items()}


def attr(node):
    """struct fuse_attr."""
    if node == FUSE_ROOT:
        return struct.pack('<QQQQQQIIIIIIIIII', FUSE_ROOT, 0, 0, 0, 0, 0, 0, 0, 0, stat.S_IFDIR | 0o755, 2, 0, 0, 0, 4096, 0)
    s = fixed[node]
    return struct.pack('<QQQQQQIIIIIIIIII', s.st_ino, s.st_size, (s.st_size + 511) // 512, s.st_mtime_ns // 10**9, s.st_mtime_ns // 10**9,
                       s.st_ctime_ns // 10**9, s.st_mtime_ns % 10**9, s.st_mtime_ns % 10**9, s.st_ctime_ns % 10**9,
                       stat.S_IFREG | 0o644, 1, uid, gid, 0, 4096, 0)


def handle(opcode, node, body):
    if opcode == INIT:
        major, minor = struct.unpack_from('<II', body)
        # struct fuse_init_out (64 bytes): 7.31, no optional features.
        return struct.pack('<IIIIHHIIHHI7I', 7, min(minor, 31), 0, 0, 16, 12, 65536, 1, 0, 0, 0, *([0] * 7))
    if opcode == LOOKUP:
        name = body.split(b'\0', 1)[0].decode()
        if node != FUSE_ROOT or name not in nodes:
            return -errno.ENOENT
        return struct.pack('<QQQQII', nodes[name], 0, 0, 0, 0, 0) + attr(nodes[name])  # fuse_entry_out, nothing cached
    if opcode == GETATTR:
        return struct.pack('<QII', 0, 0, 0) + attr(node)  # fuse_attr_out
    if opcode == OPEN:
        return struct.pack('<QII', 0, FOPEN_DIRECT_IO, 0)
    if opcode == READ:
        _, offset, size = struct.unpack_from('<QQI', body)
        fd = os.open(paths[node], os.O_RDONLY)
        try:
            return os.pread(fd, size, offset)
        finally:
            os.close(fd)
    if opcode == STATFS:
        return struct.pack('<QQQQQIIII6I', 0, 0, 0, 0, 0, 4096, 255, 4096, 0, *([0] * 6))
    if opcode in (RELEASE, FLUSH, RELEASEDIR, ACCESS):
        return b''
    if opcode == OPENDIR:
        return struct.pack('<QII', 0, 0, 0)
    return -errno.ENOSYS


def main():
    fuse = os.open('/dev/fuse', os.O_RDWR)
    if not mount(fuse, mountpoint):
        sys.exit(f'mount: {os.strerror(ctypes.get_errno())}')
    print('mounted', flush=True)
    while True:
        try:
            request = os.read(fuse, 1 << 20)
        except OSError as error:
            if error.errno in (errno.ENODEV,):  # unmounted
                return
            if error.errno in (errno.EINTR, errno.ENOENT):  # interrupted, or a request aborted meanwhile
                continue
            raise
        _, opcode, unique, node = struct.unpack_from('<IIQQ', request)
        if opcode == DESTROY:
            return
        if opcode in NO_REPLY:
            continue
        try:
            out = handle(opcode, node, request[40:])
        except Exception:
            out = -errno.EIO
        error, payload = (out, b'') if isinstance(out, int) else (0, out)
        try:
            os.write(fuse, struct.pack('<IiQ', 16 + len(payload), error, unique) + payload)
        except OSError as failure:
            if failure.errno != errno.ENOENT:  # the request was interrupted: no one waits for the answer
                raise


main()
