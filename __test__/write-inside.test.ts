import { describe, expect, it } from 'vitest';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import fsPromises, { writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, join } from 'node:path';
import { mkfifo, tempDir } from './helpers/fs.js';
import { internal } from './helpers/package.js';
import { PROC, skipUnless } from './helpers/platform.js';

/**
 * src/fs/write-inside.ts DirsInside: the folders of a shared cache one load writes into, each
 * checked once and then held open (README.md, Benchmarks: first loads). A folder swapped for a link after its check must
 * redirect nothing; a link or a special file planted before it is refused, named.
 */
const DESCRIPTORS = 'DirsInside holds the folders and writes through /proc/self/fd (Linux); without it, a swapped folder is refused (the test "without /proc/self/fd" shows it)';
const { DirsInside } = (await import(internal('fs/write-inside.js'))) as typeof import('../dist/fs/write-inside.js');
const { withFileLock } = (await import(internal('fs/file-lock.js'))) as typeof import('../dist/fs/file-lock.js');

describe('DirsInside', () => {
  it('makes the folders, and what is written through at() is at the path named', async () => {
    const root = tempDir('kernelseal-cache-');
    const dirs = new DirsInside(root);
    const path = join(root, 'repo', 'blobs', 'a');
    const at = await dirs.at(path);
    // Linux: through the folder's descriptor; elsewhere the path itself, its folders checked.
    if (PROC) expect(at).toMatch(/^\/proc\/self\/fd\/\d+\/a$/);
    else expect(at).toBe(path);
    await writeFile(at, 'a\n');
    await dirs.close();
    expect(readFileSync(path, 'utf8')).toBe('a\n');
    expect(lstatSync(join(root, 'repo')).isDirectory()).toBe(true);
  });

  it('writes into the folder it checked when that folder is swapped for a link since, never through the link', async (ctx) => {
    skipUnless(ctx, PROC, DESCRIPTORS);
    const root = tempDir('kernelseal-cache-');
    const victimDir = tempDir('kernelseal-victim-');
    const dirs = new DirsInside(root);
    const blobs = join(root, 'repo', 'blobs');
    await writeFile(await dirs.at(join(blobs, 'a')), 'a\n');
    renameSync(join(root, 'repo'), join(root, 'moved'));
    symlinkSync(victimDir, join(root, 'repo'));
    mkdirSync(join(victimDir, 'blobs'));
    await writeFile(await dirs.at(join(blobs, 'b')), 'b\n');
    await dirs.symlink('b', join(blobs, 'c'));
    await withFileLock(join(blobs, 'b.lock'), async () => {}, { folder: dirs });
    await dirs.close();
    expect(readdirSync(join(victimDir, 'blobs'))).toEqual([]);
    expect(readdirSync(join(root, 'moved', 'blobs')).sort()).toEqual(['a', 'b', 'b.lock', 'c']);
    // The next load checks again, and refuses the link, named.
    const next = new DirsInside(root);
    await expect(next.at(join(blobs, 'd'))).rejects.toThrow(`refusing to write through ${join(root, 'repo')}: a symbolic link in the cache`);
    await next.close();
    expect(readdirSync(join(victimDir, 'blobs'))).toEqual([]);
  });

  it('refuses a folder planted as a link or as a file, and a path outside the root, named', async () => {
    const root = tempDir('kernelseal-cache-');
    const victimDir = tempDir('kernelseal-victim-');
    symlinkSync(victimDir, join(root, 'linked'));
    writeFileSync(join(root, 'file'), '');
    const dirs = new DirsInside(root);
    await expect(dirs.at(join(root, 'linked', 'sub', 'a'))).rejects.toThrow(`refusing to write through ${join(root, 'linked')}: a symbolic link in the cache`);
    await expect(dirs.at(join(root, 'file', 'a'))).rejects.toThrow(`refusing to write through ${join(root, 'file')}: not a directory`);
    await expect(dirs.at(join(root, '..', 'elsewhere', 'a'))).rejects.toThrow(`refusing ${join(root, '..', 'elsewhere')}: outside ${root}`);
    await dirs.close();
    expect(readdirSync(victimDir)).toEqual([]);
  });

  it('locks only a regular file: a planted link or FIFO is refused (at once), named by its path in the cache', async () => {
    const root = tempDir('kernelseal-cache-');
    const victim = join(tempDir('kernelseal-victim-'), 'victim.txt');
    writeFileSync(victim, 'the victim file\n');
    mkdirSync(join(root, 'locks'));
    symlinkSync(victim, join(root, 'locks', 'linked.lock'));
    mkfifo(join(root, 'locks', 'fifo.lock'));
    const dirs = new DirsInside(root);
    const lock = (name: string) => withFileLock(join(root, 'locks', name), async () => {}, { folder: dirs });
    await expect(lock('linked.lock')).rejects.toThrow(`refusing ${join(root, 'locks', 'linked.lock')}: a symbolic link`);
    await expect(lock('fifo.lock')).rejects.toThrow(`refusing ${join(root, 'locks', 'fifo.lock')}: not a regular file`);
    await dirs.close();
    expect(readFileSync(victim, 'utf8')).toBe('the victim file\n');
  });

  it('makes a link, leaves one that is right alone, and replaces (never follows) one planted where it goes', async () => {
    const root = tempDir('kernelseal-cache-');
    const victim = join(tempDir('kernelseal-victim-'), 'victim.txt');
    writeFileSync(victim, 'the victim file\n');
    const snapshot = join(root, 'snapshots', 'c0ffee', 'build');
    mkdirSync(snapshot, { recursive: true });
    symlinkSync(victim, join(snapshot, 'planted.py'));
    symlinkSync('../../../blobs/c', join(snapshot, 'right.py'));
    const right = lstatSync(join(snapshot, 'right.py')).ino;
    const dirs = new DirsInside(root);
    await dirs.symlink('../../../blobs/a', join(snapshot, 'new.py'));
    await dirs.symlink('../../../blobs/b', join(snapshot, 'planted.py'));
    await dirs.symlink('../../../blobs/c', join(snapshot, 'right.py'));
    await dirs.close();
    expect(readlinkSync(join(snapshot, 'new.py'))).toBe('../../../blobs/a');
    expect(lstatSync(join(snapshot, 'right.py')).ino).toBe(right); // already so: left alone
    expect(readlinkSync(join(snapshot, 'planted.py'))).toBe('../../../blobs/b');
    expect(readdirSync(snapshot).sort()).toEqual(['new.py', 'planted.py', 'right.py']); // no temporary name left
    expect(readFileSync(victim, 'utf8')).toBe('the victim file\n');
  });

  it('writes a file atomically through the checked folder: a link planted at its name is replaced, never followed, and no temporary file is left', async () => {
    const root = tempDir('kernelseal-cache-');
    const victim = join(tempDir('kernelseal-victim-'), 'victim.txt');
    writeFileSync(victim, 'the victim file\n');
    const refs = join(root, 'repo', 'refs');
    mkdirSync(refs, { recursive: true });
    symlinkSync(victim, join(refs, 'v1'));
    const dirs = new DirsInside(root);
    await dirs.writeFile(join(refs, 'v1'), 'c0ffee');
    await dirs.writeFile(join(refs, 'main'), 'decade');
    await dirs.close();
    expect(lstatSync(join(refs, 'v1')).isFile()).toBe(true);
    expect([readFileSync(join(refs, 'v1'), 'utf8'), readFileSync(join(refs, 'main'), 'utf8')]).toEqual(['c0ffee', 'decade']);
    expect(readdirSync(refs).sort()).toEqual(['main', 'v1']);
    expect(readFileSync(victim, 'utf8')).toBe('the victim file\n');
  });

  it('removes a tree without following a link in it: the link goes, what it led to stays', async () => {
    const root = tempDir('kernelseal-cache-');
    const victimDir = tempDir('kernelseal-victim-');
    writeFileSync(join(victimDir, 'x.pyc'), 'the victim file\n');
    const pycache = join(root, 'variant', 'relu', '__pycache__');
    mkdirSync(join(pycache, 'nested'), { recursive: true });
    writeFileSync(join(pycache, 'a.pyc'), '');
    writeFileSync(join(pycache, 'nested', 'b.pyc'), '');
    symlinkSync(victimDir, join(pycache, 'linked'));
    symlinkSync(victimDir, join(root, 'variant', 'relu', 'linked-pycache'));
    const dirs = new DirsInside(root);
    await dirs.remove(pycache);
    await dirs.remove(join(root, 'variant', 'relu', 'linked-pycache'));
    await dirs.remove(join(root, 'variant', 'relu', 'missing'));
    await dirs.close();
    expect(readdirSync(join(root, 'variant', 'relu'))).toEqual([]);
    expect(readdirSync(victimDir)).toEqual(['x.pyc']);
  });

  it('refuses to remove a planted tree nested deeper than 32 folders (a descriptor is held per level), naming it', async () => {
    const root = tempDir('kernelseal-cache-');
    const pycache = join(root, 'variant', '__pycache__');
    const deep = join(pycache, ...Array.from({ length: 40 }, () => 'd'));
    mkdirSync(deep, { recursive: true });
    const dirs = new DirsInside(root);
    await expect(dirs.remove(pycache)).rejects.toMatchObject({ code: 'UNSAFE_PATH', message: `refusing to remove ${join(pycache, ...Array.from({ length: 32 }, () => 'd'))}: folders nested more than 32 deep` });
    await dirs.close();
  });

  it('names the folders as the user knows them in an error about a path through a descriptor', async (ctx) => {
    skipUnless(ctx, PROC, DESCRIPTORS);
    const root = tempDir('kernelseal-cache-');
    const link = join(root, 'snapshots', 'c0ffee', 'layers.py');
    mkdirSync(join(link, 'planted'), { recursive: true }); // a folder where the link goes: rename cannot replace it
    const dirs = new DirsInside(root);
    const error = await dirs.symlink('../../blobs/a', link).then(() => undefined, (e: NodeJS.ErrnoException & { dest?: string }) => e);
    expect(error!.message).toMatch(/^EISDIR: .*'\/proc\/self\/fd\/\d+\/layers\.py'$/);
    expect(dirs.named(error)).toBe(error); // the same error, its class and code kept
    expect(error).toMatchObject({ code: 'EISDIR', dest: link });
    expect(error!.message).toContain(`-> '${link}'`);
    expect(`${error!.message}${error!.path}${error!.stack}`).not.toContain('/proc/self/fd');
    await dirs.close();
  });

  it('hands an abort\'s reason back as it is: a DOMException, whose message cannot be set, is not made a TypeError', async () => {
    const dirs = new DirsInside(tempDir('kernelseal-cache-'));
    for (const reason of [AbortSignal.abort().reason as Error, new DOMException('timed out', 'TimeoutError')]) {
      expect(() => dirs.named(reason)).not.toThrow();
      expect(dirs.named(reason)).toBe(reason);
    }
    await dirs.close();
  });

  it('without /proc/self/fd (not Linux) checks the whole path at every call: a folder swapped for a link is refused, named, and nothing written through it', async () => {
    const root = tempDir('kernelseal-cache-');
    const victimDir = tempDir('kernelseal-victim-');
    // What DirsInside asks to choose: /proc answers nothing here, as where it does not exist.
    const stat = fsPromises.stat;
    fsPromises.stat = ((path: string, ...rest: []) => (String(path).startsWith('/proc/') ? Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })) : stat(path, ...rest))) as typeof stat;
    syncBuiltinESMExports();
    const dirs = new DirsInside(root);
    const blobs = join(root, 'repo', 'blobs');
    try {
      expect(await dirs.at(join(blobs, 'a'))).toBe(join(blobs, 'a')); // the path itself, its folders checked
    } finally {
      fsPromises.stat = stat;
      syncBuiltinESMExports();
    }
    renameSync(join(root, 'repo'), join(root, 'moved'));
    symlinkSync(victimDir, join(root, 'repo'));
    mkdirSync(join(victimDir, 'blobs'));
    const refused = `refusing to write through ${join(root, 'repo')}: a symbolic link in the cache`;
    await expect(dirs.at(join(blobs, 'b'))).rejects.toThrow(refused);
    await expect(withFileLock(join(blobs, 'b.lock'), async () => {}, { folder: dirs })).rejects.toThrow(refused);
    await expect(dirs.symlink('a', join(blobs, 'c'))).rejects.toThrow(refused);
    await dirs.close();
    expect(readdirSync(join(victimDir, 'blobs'))).toEqual([]);
  });

  it('writes nothing once closed: its descriptors are released, and no path through them is handed out again', async (ctx) => {
    skipUnless(ctx, PROC, DESCRIPTORS);
    const root = tempDir('kernelseal-cache-');
    const dirs = new DirsInside(root);
    const at = await dirs.at(join(root, 'blobs', 'a'));
    const real = realpathSync(join(root, 'blobs'));
    expect(readlinkSync(dirname(at))).toBe(real);
    await dirs.close();
    const heldNow = (() => {
      try {
        return readlinkSync(dirname(at)); // the number may have been reused since, for something else
      } catch {
        return undefined;
      }
    })();
    expect(heldNow).not.toBe(real);
    await expect(dirs.at(join(root, 'blobs', 'b'))).rejects.toThrow(`${root}: the cache's folders are closed`);
  });
});
