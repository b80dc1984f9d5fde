import { describe, expect, it } from 'vitest';
import { chmodSync, linkSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { mkfifo, tempDir, writeTree } from './helpers/fs.js';
import { DIST, internal } from './helpers/package.js';

// The walk withCtime (getKernel's second load) stats files synchronously, in turns of 512
// (src/hashing/pure/walk.ts); the plain walk stats them through libuv at once. Both must see the
// same tree and report the same first error in listing order.
const { walkTree } = (await import(internal('hashing/pure/walk.js'))) as typeof import('../dist/hashing/pure/walk.js');
const { fingerprint } = (await import(internal('kernels/hub/receipts.js'))) as typeof import('../dist/kernels/hub/receipts.js');
const { createNativeBackend, pureBackend } = (await import(DIST)) as typeof import('../dist/index.js');

/** A variant of `count` files in small/ plus every kind of entry the walk rules speak of. */
function variant(count: number): string {
  const outside = writeTree(tempDir('kernelseal-walk-outside-'), { 'blob.so': 'linked', 'dir/x.py': 'x' });
  const spec: Parameters<typeof writeTree>[1] = {
    '__init__.py': 'from ._ops import ops\n',
    'metadata.json': '{}',
    'module.pyc': 'bytecode',
    '__pycache__/a.cpython-312.pyc': 'bytecode',
    'linked.so': { symlink: join(outside, 'blob.so') },
    'linked-dir': { symlink: join(outside, 'dir') },
  };
  for (let i = 0; i < count; i++) spec[`small/${String(i).padStart(4, '0')}.py`] = `# file ${i}\n`;
  const root = writeTree(tempDir('kernelseal-walk-'), spec);
  mkfifo(join(root, 'fifo'));
  return root;
}

/** What a walk saw, without the change times and who may write each file (the plain walk takes neither). */
const seen = (tree: Awaited<ReturnType<typeof walkTree>>) => ({
  entries: tree.entries.map(({ fingerprint: { ctimeNs: _, ...fingerprint }, access: __, ...entry }) => ({ ...entry, fingerprint })),
  unhashed: tree.unhashed,
});

describe('walkTree withCtime', () => {
  it('sees the tree the plain walk sees, across several turns, and keeps each file ctime', async () => {
    const root = variant(1100);
    const kept = await walkTree(root, undefined, true);
    expect(seen(kept)).toEqual(seen(await walkTree(root)));
    expect(kept.entries).toHaveLength(1100 + 2); // __init__.py and linked.so; metadata.json is left out at the top
    expect(kept.unhashed.map((entry) => [entry.path, entry.reason])).toEqual([
      ['__pycache__', 'bytecode-directory'],
      ['fifo', 'special-file'],
      ['linked-dir', 'directory-symlink'],
      ['module.pyc', 'bytecode'],
    ]);
    // The fingerprint kept is of the link's target, as a later stat of it sees it.
    const linked = kept.entries.find((entry) => entry.key === 'linked.so')!;
    const target = statSync(join(root, 'linked.so'), { bigint: true });
    expect(linked.fingerprint).toEqual({ size: target.size, ino: target.ino, mtimeNs: target.mtimeNs, ctimeNs: target.ctimeNs });
    expect(linked.size).toBe('linked'.length);
    expect(linked.access).toEqual({ dev: target.dev, uid: target.uid, mode: target.mode, nlink: target.nlink });
    // The plain walk takes no ctime, nor who may write.
    expect((await walkTree(root)).entries.every((entry) => !('ctimeNs' in entry.fingerprint) && !('access' in entry))).toBe(true);
  });

  it("gives the receipt's fingerprint without a second stat: the same lines as stat'ing each file", async () => {
    const root = variant(3);
    const kept = await walkTree(root, undefined, true);
    const lines = await fingerprint(root, kept.entries);
    expect(lines).toEqual(await fingerprint(root));
    expect(lines).toEqual(await fingerprint(root, (await walkTree(root)).entries));
    const info = statSync(join(root, '__init__.py'), { bigint: true });
    expect(lines[0]).toEqual(['__init__.py', String(info.size), String(info.ino), String(info.mtimeNs), String(info.ctimeNs)]);
  });

  it('sees a file written since: new size and mtime', async () => {
    const root = variant(3);
    const before = (await walkTree(root, undefined, true)).entries.find((entry) => entry.key === 'small/0001.py')!;
    writeFileSync(join(root, 'small/0001.py'), '# file 1, changed\n');
    utimesSync(join(root, 'small/0001.py'), 0, 0);
    const after = (await walkTree(root, undefined, true)).entries.find((entry) => entry.key === 'small/0001.py')!;
    expect(after.size).not.toBe(before.size);
    expect(after.fingerprint.mtimeNs).not.toBe(before.fingerprint.mtimeNs);
  });

  it.each([false, true])('reports a dangling symlink, named with its target (withCtime %s)', async (withCtime) => {
    const root = writeTree(tempDir(), { 'ok.py': 'x', 'gone.so': { symlink: 'missing.so' } });
    const error = await walkTree(root, undefined, withCtime).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ code: 'DANGLING_SYMLINK', path: join(root, 'gone.so') });
    expect((error as Error).message).toContain('dangling symlink to missing.so');
  });
});

// getKernel and receipts walk through the digest backend (src/hashing/variant-files.ts): the
// engine's walk (crates/engine/src/walk.rs, its lookups across threads from 256 entries) must
// see what the TypeScript walk withCtime sees, fingerprints and change times included.
describe('walkTree of the native backend', () => {
  const native = createNativeBackend();

  it.each([3, 1100])('sees what the TypeScript walk sees, change times included (%i files)', async (count) => {
    const root = variant(count);
    const expected = await pureBackend.walkTree(root);
    expect(expected.entries.every((entry) => entry.fingerprint.ctimeNs !== undefined)).toBe(true);
    expect(await native.walkTree(root)).toEqual(expected);
  });

  it('times before 1970 and after 2262 in nanoseconds as BigIntStats spells them', async () => {
    const root = variant(0);
    utimesSync(join(root, '__init__.py'), -1_000_000.25, 9_999_999_999.5);
    const [file] = (await native.walkTree(root)).entries;
    expect(file!.fingerprint.mtimeNs).toBe(statSync(join(root, '__init__.py'), { bigint: true }).mtimeNs);
    expect(file).toEqual((await pureBackend.walkTree(root)).entries[0]);
  });

  it("says who may write each file as a stat of it does (a link's target), for receipts to ask no second stat", async () => {
    const root = variant(1);
    linkSync(join(root, '__init__.py'), join(root, 'second-name.py'));
    chmodSync(join(root, 'small/0000.py'), 0o664);
    const tree = await native.walkTree(root);
    for (const entry of tree.entries) {
      const info = statSync(join(root, entry.key), { bigint: true });
      expect(entry.access).toEqual({ dev: info.dev, uid: info.uid, mode: info.mode, nlink: info.nlink });
    }
    const access = (key: string) => tree.entries.find((entry) => entry.key === key)!.access!;
    expect(access('second-name.py').nlink).toBe(2n);
    expect(access('small/0000.py').mode & 0o777n).toBe(0o664n);
    expect(access('linked.so').mode & 0o170000n).toBe(0o100000n); // the target, a regular file, not the link
    expect(tree).toEqual(await pureBackend.walkTree(root));
  });

  it('reports a dangling symlink as the TypeScript walk does', async () => {
    const root = writeTree(tempDir(), { 'ok.py': 'x', 'gone.so': { symlink: 'missing.so' } });
    const error = await native.walkTree(root).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ code: 'DANGLING_SYMLINK', path: join(root, 'gone.so') });
    expect((error as Error).message).toContain('dangling symlink to missing.so');
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(native.walkTree(variant(3), { signal: controller.signal })).rejects.toThrow('stop');
  });
});
