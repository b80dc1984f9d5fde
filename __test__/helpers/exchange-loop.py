"""Flips a folder between a directory and a link, as another user of a cache can, as fast as it
can: exchanges two names with renameat2(RENAME_EXCHANGE) in a loop (each swap is atomic: the name
is always one or the other, never missing) until stdin closes.
    python3 exchange-loop.py PATH_A PATH_B
Prints "exchanging" once it runs, and the number of exchanges made when it stops.
"""

import ctypes
import os
import sys
import threading

AT_FDCWD, RENAME_EXCHANGE = -100, 2
libc = ctypes.CDLL(None, use_errno=True)
a, b = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
count = 0
print('exchanging', flush=True)
while not stop.is_set():
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        sys.exit(f'renameat2: {os.strerror(ctypes.get_errno())}')
    count += 1
# Leave the names as they were.
if count % 2:
    libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
print(count, flush=True)
