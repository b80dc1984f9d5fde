import { loadAddonExports } from '../addon.js';

// One `syncfs` for many files written at once (the files a load placed in the Hub cache:
// src/kernels/hub/cache.ts), where an fsync of each cost a first load of 1,000 small files about
// a third of its time (README.md, Benchmarks: first loads): the kernel writes them out in one pass.

let sync: ((path: string) => Promise<void>) | undefined | null = null;

/**
 * The addon's `syncFileSystem` (Node has no syncfs): writes out the whole file system holding
 * `path`, off the JavaScript thread, rejecting with the path on failure. Undefined where no addon
 * loads or the platform has no syncfs (Linux only): there, fsync each file. Asked once per process.
 */
export function fileSystemSync(): ((path: string) => Promise<void>) | undefined {
  if (sync === null) {
    try {
      const addon = loadAddonExports() as { syncFileSystem?: (path: string) => Promise<void> };
      const syncFileSystem = addon.syncFileSystem;
      sync = typeof syncFileSystem === 'function' ? (path) => syncFileSystem.call(addon, path) : undefined;
    } catch {
      sync = undefined;
    }
  }
  return sync;
}
