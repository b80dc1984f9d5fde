import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from './datasets.js';

/**
 * Reads every file of the data set once, untimed, so that a warm run is warm: a guest may evict
 * page cache it has not touched for a while (this bench machine's DAMON `pageout` scheme takes
 * pages idle for about a minute: src/bench/machine.ts `pageCacheReclaim`), and a data set last
 * read several methods ago would otherwise come partly from disk.
 */
export function warmPageCache(dir: string, dataset: Dataset): void {
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  for (const file of dataset.files) {
    const fd = openSync(join(dir, file.path), 'r');
    try {
      while (readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

/** posix_fadvise(DONTNEED) on every file, through GNU dd (count=0 iflag=nocache). */
export function dropFromPageCache(dir: string, dataset: Dataset): void {
  for (const file of dataset.files) {
    execFileSync('dd', [`if=${join(dir, file.path)}`, 'iflag=nocache', 'count=0', 'status=none']);
  }
}
