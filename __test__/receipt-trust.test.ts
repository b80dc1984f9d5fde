import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { signedRepository } from './helpers/signed-repo.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, internal } from './helpers/package.js';
import { AS_ROOT, ensureUser, NEEDS_ROOT, pythonFor, runAs, startAs, type User } from './helpers/users.ts';

/**
 * A receipt lets a load skip re-hashing files whose fingerprint (inode, size, mtime, ctime) has
 * not changed. But a write through a shared writable mapping into a page that is already dirty
 * changes neither time: whoever can write a file can change it under a receipt. So a receipt
 * vouches only for files no one but the loading user (and root) can write: owned by them, no
 * group or other write bit, one name, on a local file system (src/kernels/hub/sole-writer.ts).
 *
 * Played here with real users (created as root, as CI runs): kernelseal-a shares the cache with
 * kernelseal-b, and writes through a mapping exactly as described, as a file's owner or as anyone
 * its mode lets in; and with a FUSE file system that serves new bytes under the same attributes.
 * Each test fails if the guard it names is taken out of the rule.
 */
const { LocalDevices } = (await import(internal('fs/local-file-system.js'))) as typeof import('../dist/fs/local-file-system.js');

const REPO = 'kernels-test/relu';
const VARIANT = 'torch210-cxx11-cu128-x86_64-linux';
const MMAP_WRITER = fileURLToPath(new URL('./helpers/mmap-writer.py', import.meta.url));
const LYING_FUSE = fileURLToPath(new URL('./helpers/fuse-lying.py', import.meta.url));

const sigstore = withMockSigstore();
let hub: MockHub;

beforeAll(async () => {
  hub = await startMockHub([{ repoId: REPO, refs: { v1: await signedRepository(sigstore, REPO, [VARIANT]) } }]);
}, 120_000);
/** Folders made outside the usual temporary folder (on tmpfs), or made inside a test: removed after the file. */
const made: string[] = [];
afterAll(async () => {
  await hub?.close();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** What a load as another user says: the kernel's flags, or the refusal's reason. */
type Outcome =
  | { verified: boolean; fromReceipt: boolean; hashed: boolean; path: string }
  | { error: string; code?: string; status?: string; violations?: string[]; message: string };

/**
 * A folder for the cache that every user may write to (a shared cache), on tmpfs where there is
 * one: no writeback ever cleans a dirty page there, so a write into one stays unseen by the
 * times however long a test takes (on a disk, the kernel writes a dirty page back within about
 * 30 s, and the next write through the mapping updates the times again).
 */
function sharedCache(): string {
  const base = existsSync('/dev/shm') && statSync('/dev/shm').isDirectory() ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'kernelseal-shared-cache-'));
  chmodSync(dir, 0o777);
  made.push(dir);
  return dir;
}

/** A folder of `user`'s own: their state (src/fs/user-state.ts: the signers they remember) and their receipt key (src/kernels/hub/receipt-key.ts). */
const stateDirs = new Map<string, string>();
function stateOf(user: User): string {
  if (!stateDirs.has(user.name)) {
    const dir = mkdtempSync(join(tmpdir(), `kernelseal-state-${user.name}-`));
    chownSync(dir, user.uid, user.gid);
    chmodSync(dir, 0o700);
    made.push(dir);
    stateDirs.set(user.name, dir);
  }
  return stateDirs.get(user.name)!;
}

/**
 * getKernel run by `user` in a process of their own, from the mock Hub or (offline) the cache;
 * `umask` 0 as in a cache shared through a group (its folders writable by all who share it).
 */
async function loadAs(user: User, cacheDir: string, options: { offline?: boolean; umask?: number } = {}): Promise<Outcome> {
  const script = `
    ${options.umask === undefined ? '' : `process.umask(${options.umask});`}
    const ks = await import(${JSON.stringify(DIST)});
    let hashed = false;
    try {
      const kernel = await ks.getKernel(${JSON.stringify(REPO)}, {
        endpoint: ${JSON.stringify(hub.url)}, cacheDir: ${JSON.stringify(cacheDir)}, offline: ${options.offline ?? false},
        policy: ks.githubWorkflowPolicy({ repository: ${JSON.stringify(REPO)} }),
        trustedRoot: ks.parseTrustedRoot(JSON.parse(process.env.TEST_TRUSTED_ROOT), 'mock'),
        version: 1, variant: ${JSON.stringify(VARIANT)}, onWarning: () => {}, onHashProgress: () => { hashed = true; },
      });
      console.log(JSON.stringify({ verified: kernel.verified, fromReceipt: kernel.fromReceipt, hashed, path: kernel.path }));
    } catch (error) {
      console.log(JSON.stringify({ error: error.name, code: error.code, status: error.result?.status, violations: error.result?.violations?.map(String), message: error.message }));
    }`;
  const env = { KERNELSEAL_STATE_DIR: stateOf(user), KERNELSEAL_RECEIPT_KEY_FILE: join(stateOf(user), 'receipt.key'), TEST_TRUSTED_ROOT: JSON.stringify(sigstore.trustedRoot) };
  const run = await runAs(user, process.execPath, ['--input-type=module', '-e', script], { env });
  if (run.code !== 0) throw new Error(`load as ${user.name} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Outcome;
}

/** The blob behind a file of the variant at `path` (the snapshot links to it). */
const blobOf = (path: string, file: string) => resolve(path, dirname(file), readlinkSync(join(path, file)));

const fullCheck = { verified: true, fromReceipt: false, hashed: true };
const refusedLayers = { error: 'KernelRefusedError', code: 'KERNEL_UNVERIFIED', status: 'digest-mismatch', violations: [expect.stringMatching(/^File hash mismatch for layers\.py/)] };

/** The times a fingerprint records, to show a write left them as they were. */
const times = (path: string) => {
  const info = statSync(path, { bigint: true });
  return { size: info.size, ino: info.ino, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs };
};

/**
 * The attack: `writer` (root when undefined) maps `file` and dirties its page; `victim` loads
 * twice, each a full check (no receipt may vouch for a file another can write); the writer then
 * flips a byte in the page already dirty, which no time shows; the victim's next load refuses it.
 */
async function mappedWriteIsCaught(writer: User | undefined, file: string, cache: string, victim: User): Promise<void> {
  const mapping = startAs(writer, writer ? pythonFor(writer) : 'python3', [MMAP_WRITER, file]);
  try {
    expect(await mapping.line()).toBe('mapped');
    await mapping.command('dirty'); // before the victim's loads: the next write shows in no time
    expect(await loadAs(victim, cache, { offline: true })).toMatchObject(fullCheck);
    expect(await loadAs(victim, cache, { offline: true })).toMatchObject(fullCheck); // the first wrote no receipt that holds
    const before = times(file);
    await mapping.command('flip');
    expect(times(file)).toEqual(before); // a fingerprint cannot see it
    expect(await loadAs(victim, cache, { offline: true })).toMatchObject(refusedLayers);
  } finally {
    mapping.stop();
  }
}

describe.skipIf(!AS_ROOT)(`two users of one cache, and a write through a mapping that no time shows${AS_ROOT ? '' : ` (${NEEDS_ROOT})`}`, () => {
  let a: User; // kernelseal-a: fetched first, so owns the blobs; or just another user
  let b: User; // kernelseal-b: the victim, who loads what is in the cache
  beforeAll(() => {
    a = ensureUser('kernelseal-a');
    b = ensureUser('kernelseal-b');
  });

  it("blobs owned by another user: the victim re-hashes every load, and catches the owner's write through a mapping", async () => {
    const cache = sharedCache();
    const owner = await loadAs(a, cache, { umask: 0 });
    expect(owner).toMatchObject({ verified: true, fromReceipt: false, hashed: false }); // streamed in: a's own files
    const blob = blobOf((owner as { path: string }).path, 'layers.py');
    expect(statSync(blob).uid).toBe(a.uid);
    await mappedWriteIsCaught(a, blob, cache, b);
  });

  it.each([
    ['writable by others (mode 646)', 0o646, false],
    ['writable by its group, the other user in it (mode 664)', 0o664, true],
  ])("the victim's own blob %s: re-hashed every load, and the other user's write through a mapping is caught", async (_what, mode, group) => {
    const cache = sharedCache();
    const victim = await loadAs(b, cache, { umask: 0 });
    expect(victim).toMatchObject({ verified: true, fromReceipt: false });
    const blob = blobOf((victim as { path: string }).path, 'layers.py');
    if (group) chownSync(blob, b.uid, a.gid);
    chmodSync(blob, mode); // the victim's careless umask or chmod
    await mappedWriteIsCaught(a, blob, cache, b);
  });

  it('a blob with a second name (a root-owned file linked into the cache): re-hashed every load, and a write through the other name is caught', async () => {
    // Root may change any file; a file of root's with another name elsewhere is changed by
    // whatever writes through that name (a daemon's data file, linked in where
    // fs.protected_hardlinks is off), unseen by the victim.
    const cache = sharedCache();
    const victim = await loadAs(b, cache, { umask: 0 });
    const blob = blobOf((victim as { path: string }).path, 'layers.py');
    const elsewhere = join(mkdtempSync(join(dirname(cache), 'kernelseal-elsewhere-')), 'daemon-data'); // a hard link stays on its file system
    made.push(dirname(elsewhere));
    writeFileSync(elsewhere, readFileSync(blob)); // root's own file
    chmodSync(elsewhere, 0o644);
    linkSync(elsewhere, `${blob}.linked`);
    renameSync(`${blob}.linked`, blob);
    expect(statSync(blob)).toMatchObject({ uid: 0, nlink: 2 });
    await mappedWriteIsCaught(undefined, elsewhere, cache, b);
  });

  it('the same user: a receipt holds for their own files and a write that changes the times is caught; a write of their own through a mapping is not (SECURITY.md)', async () => {
    const cache = sharedCache();
    const first = await loadAs(b, cache);
    expect(first).toMatchObject({ verified: true, fromReceipt: false, hashed: false });
    expect(await loadAs(b, cache, { offline: true })).toMatchObject({ verified: true, fromReceipt: true, hashed: false });
    const blob = blobOf((first as { path: string }).path, 'layers.py');
    // Promised: a write (write(2): new mtime and ctime) voids the receipt.
    const content = readFileSync(blob);
    writeFileSync(blob, content);
    expect(await loadAs(b, cache, { offline: true })).toMatchObject(fullCheck); // a new receipt is written
    expect(await loadAs(b, cache, { offline: true })).toMatchObject({ fromReceipt: true });
    // Not promised: the user's own process writing through a mapping into a page it dirtied
    // before the receipt. Any process of the user can change the files after any check.
    const writer = startAs(b, pythonFor(b), [MMAP_WRITER, blob]);
    try {
      expect(await writer.line()).toBe('mapped');
      await writer.command('dirty');
      // Re-hashed where that write showed in the times (on a disk; tmpfs shows no write through
      // a mapping at all), and a receipt written for the files as they are.
      expect(await loadAs(b, cache, { offline: true })).toMatchObject({ verified: true });
      await writer.command('flip');
      expect(await loadAs(b, cache, { offline: true })).toMatchObject({ verified: true, fromReceipt: true, hashed: false });
    } finally {
      writer.stop();
    }
  });
});

/** Whether this machine lets us mount a FUSE file system (root, /dev/fuse, and a container that allows mounting). */
const FUSE = AS_ROOT && spawnSync('python3', [LYING_FUSE, '--probe', tempDir('kernelseal-fuse-probe-')]).status === 0;

describe.skipIf(!FUSE)(`a cache on a file system that lies (FUSE)${FUSE ? '' : ' (skipped: needs root, /dev/fuse, and permission to mount)'}`, () => {
  it("the victim's blobs put behind FUSE with the very same attributes: the receipt no longer holds, every load re-hashes, and new bytes are caught", async () => {
    // The fingerprint (inode, size, times) is all a FUSE server needs to fake to match a receipt.
    const b = ensureUser('kernelseal-b');
    const cache = sharedCache();
    const victim = await loadAs(b, cache);
    expect(await loadAs(b, cache, { offline: true })).toMatchObject({ verified: true, fromReceipt: true });
    const path = (victim as { path: string }).path;
    const blobs = dirname(blobOf(path, 'layers.py'));
    const backing = `${blobs}-backing`;
    renameSync(blobs, backing);
    mkdirSync(blobs);
    const server = startAs(undefined, 'python3', [LYING_FUSE, blobs, backing, String(b.uid), String(b.gid)]);
    try {
      expect(await server.line()).toBe('mounted');
      const blob = blobOf(path, 'layers.py');
      expect(statSync(blob)).toMatchObject({ uid: b.uid, mode: 0o100644, nlink: 1 }); // all a stat can check
      expect(await new LocalDevices().isLocal(blob, statSync(blob, { bigint: true }).dev)).toBe(false);
      expect(await loadAs(b, cache, { offline: true })).toMatchObject(fullCheck);
      expect(await loadAs(b, cache, { offline: true })).toMatchObject(fullCheck);
      const before = times(blob);
      const behind = join(backing, blob.split('/').at(-1)!);
      const content = readFileSync(behind);
      content[0] ^= 1;
      writeFileSync(behind, content);
      expect(times(blob)).toEqual(before);
      expect(readFileSync(blob)).toEqual(content);
      expect(await loadAs(b, cache, { offline: true })).toMatchObject(refusedLayers);
    } finally {
      spawnSync('umount', ['-l', blobs]);
      server.stop();
    }
  });
});

describe('LocalDevices (src/fs/local-file-system.ts)', () => {
  it('a disk and tmpfs are local; /proc is not; nor a path whose file is not on the device its stat named', async () => {
    const devices = new LocalDevices();
    const onDisk = join(tempDir('kernelseal-local-'), 'file');
    writeFileSync(onDisk, 'x');
    expect(await devices.isLocal(onDisk, statSync(onDisk, { bigint: true }).dev)).toBe(true);
    if (existsSync('/dev/shm')) {
      const shm = mkdtempSync('/dev/shm/kernelseal-local-');
      try {
        writeFileSync(join(shm, 'file'), 'x');
        expect(await devices.isLocal(join(shm, 'file'), statSync(join(shm, 'file'), { bigint: true }).dev)).toBe(true);
      } finally {
        rmSync(shm, { recursive: true, force: true });
      }
    }
    expect(await devices.isLocal('/proc/self/status', statSync('/proc/self/status', { bigint: true }).dev)).toBe(false);
    // Swapped since the stat (a link re-pointed): no answer about that device, so not local.
    expect(await new LocalDevices().isLocal(onDisk, statSync('/proc/self/status', { bigint: true }).dev)).toBe(false);
  });
});
