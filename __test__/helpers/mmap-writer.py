"""Writes into a file through a shared writable mapping, as another user of a cache can do to a
file they own (or may write): python3 mmap-writer.py FILE. Reads commands on stdin, one a line,
and answers each with "done":
    dirty   writes byte 0 back unchanged: the page is now dirty (this write does update the times)
    flip    flips the low bit of byte 0: into the page already dirty, so neither mtime nor ctime
            changes (the kernel updates them when a clean page is first written, not after)
"""

import mmap
import os
import sys

fd = os.open(sys.argv[1], os.O_RDWR)
mapped = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
print('mapped', flush=True)
for line in sys.stdin:
    command = line.strip()
    if command == 'dirty':
        mapped[0] = mapped[0]
    elif command == 'flip':
        mapped[0] = mapped[0] ^ 1
    else:
        sys.exit(f'unknown command {command!r}')
    print('done', flush=True)
