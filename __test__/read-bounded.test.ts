import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkfifo, tempDir } from './helpers/fs.js';
import { internal } from './helpers/package.js';

// The bounded read (src/fs/read-bounded.ts), asynchronous and synchronous: the same rules and
// the same answers for every kind of file an untrusted name can lead to.
const { readBounded, readBoundedSync } = (await import(internal('fs/read-bounded.js'))) as typeof import('../dist/fs/read-bounded.js');
const readers = [
  ['readBounded', readBounded],
  ['readBoundedSync', async (path: string, limit: number) => readBoundedSync(path, limit)],
] as const;

describe.each(readers)('%s', (_, read) => {
  const dir = tempDir();

  it('reads a file whole, one larger than its first buffer too', async () => {
    const big = Buffer.alloc(200 * 1024, 7);
    writeFileSync(join(dir, 'big'), big);
    expect(await read(join(dir, 'big'), 1024 * 1024)).toEqual({ bytes: big });
    writeFileSync(join(dir, 'empty'), '');
    expect(await read(join(dir, 'empty'), 10)).toEqual({ bytes: Buffer.alloc(0) });
  });

  it('says missing, refuses what is too large, a folder, a FIFO (without waiting on it) and a device', async () => {
    expect(await read(join(dir, 'nothing'), 10)).toEqual({ missing: true });
    writeFileSync(join(dir, 'eleven'), 'eleven byte');
    expect(await read(join(dir, 'eleven'), 10)).toEqual({ error: `${join(dir, 'eleven')} is 11 bytes, more than the 10 allowed` });
    mkdirSync(join(dir, 'folder'), { recursive: true });
    expect(await read(join(dir, 'folder'), 10)).toEqual({ error: `${join(dir, 'folder')} is not a regular file` });
    if (!existsSync(join(dir, 'fifo'))) mkfifo(join(dir, 'fifo'));
    expect(await read(join(dir, 'fifo'), 10)).toEqual({ error: `${join(dir, 'fifo')} is not a regular file` });
    expect(await read('/dev/zero', 10)).toEqual({ error: '/dev/zero is not a regular file' });
  });

  it.runIf(process.platform === 'linux')('reads a /proc file that says it is empty, and refuses one that holds more than the limit', async () => {
    const status = await read('/proc/self/status', 1024 * 1024);
    expect(Buffer.from((status as { bytes: Uint8Array }).bytes).toString('utf8')).toMatch(/^Name:/);
    expect(await read('/proc/self/status', 16)).toEqual({ error: '/proc/self/status holds more than the 16 bytes allowed' });
  });
});
