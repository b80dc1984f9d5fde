import { addonFunction } from '../addon.js';

// One `syncfs` for many files written at once (the files a load placed in the Hub cache:
// src/kernels/hub/cache.ts), where an fsync of each cost a first load of 1,000 small files about
// a third of its time (README.md, Benchmarks: first loads): the kernel writes them out in one pass.

/**
 * The addon's `syncFileSystem` (Node has no syncfs): writes out the whole file system holding the
 * open descriptor `fd`, off the JavaScript thread; hold `fd` open until it settles, and give one
 * opened before the writes it is to cover (a write-back error is reported only to those). Undefined
 * where no addon loads, or the platform's syncfs does not report write-back errors (outside Linux,
 * and Linux before 5.8): there, fsync each file.
 */
export function fileSystemSync(): ((fd: number) => Promise<void>) | undefined {
  return addonFunction<(fd: number) => Promise<void>>('syncFileSystem');
}
