import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { listenUnix, mkfifo, tempDir } from './helpers/fs.js';
import { DIST } from './helpers/package.js';
import { KERNEL_METADATA, unsignedVariant } from './helpers/variant.js';

// Each test plants one attack in a signed variant and states the decided behaviour. None may
// verify a modified kernel; none may crash or hang.
const ks = (await import(DIST)) as typeof import('../dist/index.js');
const REPO = 'my-org/relu-kernel';
const policy = ks.githubWorkflowPolicy({ repository: REPO });
const sigstore = withMockSigstore();

const signer = () => ({ method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url }) as const;
async function signed(dir = unsignedVariant()) {
  await ks.signVariant(dir, { signer: signer() });
  return dir;
}
const verify = (dir: string, extra: Record<string, unknown> = {}) => ks.verifyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, ...extra });
const violations = (result: Awaited<ReturnType<typeof verify>>) => (result.status === 'digest-mismatch' ? result.violations.map(String) : [result.status]);

/** Signs `metadata` (with a digest of our choosing) as-is, as a compromised build could. */
async function signedMetadata(dir: string, metadata: object) {
  const bytes = Buffer.from(JSON.stringify(metadata));
  writeFileSync(join(dir, 'metadata.json'), bytes);
  writeFileSync(join(dir, 'metadata.json.sigstore'), ks.serializeBundle(await ks.signBytes(bytes, signer())));
}

describe('adversarial kernel variants', () => {
  it('a .pyc planted next to a .py is refused by name; removed on request; never in the verified copy', async () => {
    const dir = await signed();
    mkdirSync(join(dir, '__pycache__'));
    writeFileSync(join(dir, '__pycache__', 'layers.cpython-312.pyc'), 'evil bytecode');
    writeFileSync(join(dir, 'layers.pyc'), 'evil bytecode');
    expect(await verify(dir)).toMatchObject({ status: 'bytecode-present', paths: ['__pycache__', 'layers.pyc'] });
    // Python would load a planted __pycache__ entry whose header matches: the copy has none.
    const copy = await ks.verifyAndCopyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot });
    expect(copy.status).toBe('verified');
    expect(existsSync(join(copy.path, '__pycache__'))).toBe(false);
    expect(existsSync(join(copy.path, 'layers.pyc'))).toBe(false);
    expect(await verify(dir, { bytecode: 'remove' })).toMatchObject({ status: 'verified', bytecode: { action: 'removed', paths: ['__pycache__', 'layers.pyc'] } });
    expect(existsSync(join(dir, '__pycache__')) || existsSync(join(dir, 'layers.pyc'))).toBe(false);
  });

  it('a file swapped for a symlink to a file of the same name elsewhere: only identical content verifies', async () => {
    const dir = await signed();
    const elsewhere = tempDir();
    writeFileSync(join(elsewhere, 'layers.py'), readFileSync(join(dir, 'layers.py')));
    rmSync(join(dir, 'layers.py'));
    symlinkSync(join(elsewhere, 'layers.py'), join(dir, 'layers.py'));
    expect((await verify(dir)).status).toBe('verified'); // the content is what was signed
    writeFileSync(join(elsewhere, 'layers.py'), 'import os\n');
    expect(violations(await verify(dir))).toEqual([expect.stringMatching(/^File hash mismatch for layers\.py/)]);
  });

  it('a symlink loop fails, naming it', async () => {
    const dir = await signed();
    symlinkSync('loop-b', join(dir, 'loop-a'));
    symlinkSync('loop-a', join(dir, 'loop-b'));
    expect(await verify(dir)).toMatchObject({
      status: 'hash-failed',
      reason: expect.stringMatching(/loop-[ab]: dangling symlink to loop-[ab] \(Too many levels of symbolic links\)$/),
    });
  });

  it('a signed directory replaced by a symlink to a directory outside: refused, naming it', async () => {
    const dir = await signed();
    const outside = tempDir();
    writeFileSync(join(outside, '__init__.py'), '# nested\n');
    rmSync(join(dir, 'relu'), { recursive: true });
    symlinkSync(outside, join(dir, 'relu'));
    expect(await verify(dir)).toMatchObject({ status: 'entry-refused', entries: [{ path: 'relu', reason: 'directory-symlink' }] });
  });

  it('a FIFO, a socket and a device node in place of signed files: never opened, refused by name', async () => {
    const dir = await signed();
    rmSync(join(dir, 'layers.py'));
    mkfifo(join(dir, 'layers.py'));
    rmSync(join(dir, '_ops.py'));
    const server = await listenUnix(join(dir, '_ops.py'));
    rmSync(join(dir, '__init__.py'));
    if (process.getuid?.() === 0) execFileSync('mknod', [join(dir, '__init__.py'), 'c', '1', '3']);
    else symlinkSync('/dev/null', join(dir, '__init__.py'));
    try {
      const started = performance.now();
      const result = await verify(dir);
      expect(result).toMatchObject({ status: 'entry-refused' });
      expect(result.status === 'entry-refused' && result.entries).toEqual(
        ['__init__.py', '_ops.py', 'layers.py'].map((path) => ({ path, reason: 'special-file' })),
      );
      expect(performance.now() - started).toBeLessThan(30_000); // never blocked on the FIFO
    } finally {
      server.close();
    }
  });

  it('a file that grows or shrinks while it is hashed fails', async () => {
    for (const size of [1024, 600 * 1024 * 1024]) {
      const dir = unsignedVariant();
      const big = join(dir, 'weights.bin');
      const fd = openSync(big, 'w');
      ftruncateSync(fd, 300 * 1024 * 1024); // sparse
      closeSync(fd);
      await signed(dir);
      let touched = false;
      const result = await verify(dir, {
        onProgress: (p: { bytesDone: number; bytesTotal: number }) => {
          if (!touched && p.bytesDone > 0 && p.bytesDone < p.bytesTotal) {
            touched = true;
            truncateSync(big, size);
          }
        },
      });
      expect(touched).toBe(true);
      expect(result).toMatchObject({ status: 'hash-failed', reason: expect.stringContaining('weights.bin: file changed while it was hashed') });
    }
  });

  it('a file replaced between verification and use: the verified private copy keeps the verified bytes', async () => {
    const dir = await signed();
    const copy = await ks.verifyAndCopyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot });
    expect(copy).toMatchObject({ status: 'verified', source: dir });
    expect(copy.path).not.toBe(dir);
    expect(statSync(copy.path).mode & 0o777).toBe(0o700);
    writeFileSync(join(dir, '_ops.py'), 'import os; os.system("evil")\n'); // after the check
    const signedDigest = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')).digest.files['_ops.py'];
    expect(createHash('sha256').update(readFileSync(join(copy.path, '_ops.py'))).digest('base64')).toBe(signedDigest);
    expect((await ks.verifyVariant(copy.path, { policy, trustedRoot: sigstore.parsedRoot })).status).toBe('verified');
    // And a tampered source never yields a copy.
    const refused = await ks.verifyAndCopyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, into: tempDir() });
    expect(refused).toMatchObject({ status: 'digest-mismatch', path: dir });
  });

  it('a file replaced after the walk listed it (same bytes, size and mtime, a new inode): the copy refuses it as changed', async () => {
    const dir = await signed();
    const into = tempDir();
    const layers = join(dir, 'layers.py');
    const size = statSync(layers).size;
    const MTIME = 1_700_000_000; // whole seconds: the twin gets the very same mtime, to the nanosecond
    utimesSync(layers, MTIME, MTIME);
    const listed = statSync(layers, { bigint: true });
    // The copy checks the signal before each chunk it copies: once the first file ('__init__.py',
    // in byte order) is being copied, the walk is over, so 'layers.py' is swapped for a twin
    // between its listing and its opening, as a writer sharing the cache could.
    const signal = new AbortController().signal;
    let twin: ReturnType<typeof statSync<{ bigint: true }>> | undefined;
    signal.throwIfAborted = () => {
      const copy = readdirSync(into)[0];
      if (!twin && copy !== undefined && existsSync(join(into, copy, '__init__.py'))) {
        writeFileSync(`${layers}.new`, readFileSync(layers));
        utimesSync(`${layers}.new`, MTIME, MTIME);
        renameSync(`${layers}.new`, layers);
        twin = statSync(layers, { bigint: true });
      }
    };
    const result = await ks.verifyAndCopyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, into, signal });
    expect(twin).toMatchObject({ size: listed.size, mtimeNs: listed.mtimeNs });
    expect(twin!.ino).not.toBe(listed.ino);
    expect(result).toMatchObject({ status: 'hash-failed', reason: `${layers}: file changed after it was listed (size ${size} then, ${size} now)`, source: dir });
    expect(readdirSync(into)).toEqual([]); // no copy is left
    // The same bytes, listed afresh, verify: only the swap was refused.
    expect(await ks.verifyAndCopyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, into: tempDir() })).toMatchObject({ status: 'verified' });
  });

  it.each([
    ['../../etc/passwd', 'a "." or ".." segment'],
    ['/etc/passwd', 'an absolute path'],
    ['kernels\\\\relu.so', 'a backslash'],
    ['relu//x.py', 'an empty path segment'],
  ])('a signed digest listing %s is invalid metadata', async (path, reason) => {
    const dir = unsignedVariant();
    await signedMetadata(dir, { ...KERNEL_METADATA, digest: { algorithm: 'sha256', files: { [path]: 'uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=' } } });
    expect(await verify(dir)).toMatchObject({ status: 'metadata-invalid', reason: expect.stringContaining(reason) });
  });

  it('signed metadata with a duplicate key is invalid', async () => {
    const dir = unsignedVariant();
    const bytes = Buffer.from(`${JSON.stringify(KERNEL_METADATA).slice(0, -1)},"name":"evil"}`);
    writeFileSync(join(dir, 'metadata.json'), bytes);
    writeFileSync(join(dir, 'metadata.json.sigstore'), ks.serializeBundle(await ks.signBytes(bytes, signer())));
    expect(await verify(dir)).toMatchObject({ status: 'metadata-invalid', reason: expect.stringContaining('duplicate key "name"') });
  });

  it('two paths that differ only in Unicode normalisation or case are two files', async () => {
    const dir = unsignedVariant();
    writeFileSync(join(dir, 'caf\u00e9.py'), 'nfc');
    writeFileSync(join(dir, 'Layers.py'), 'upper case');
    await signed(dir);
    writeFileSync(join(dir, 'cafe\u0301.py'), 'nfd: a different name on disk');
    writeFileSync(join(dir, 'LAYERS.py'), 'another case');
    expect(violations(await verify(dir))).toEqual(['Unknown file: LAYERS.py', 'Unknown file: cafe\u0301.py']);
  });

  it('a 1 GB metadata.json is refused without being read', async () => {
    const dir = await signed();
    truncateSync(join(dir, 'metadata.json'), 1_000_000_000);
    const before = process.memoryUsage.rss();
    expect(await verify(dir)).toMatchObject({ status: 'metadata-invalid', reason: expect.stringContaining('more than the 268435456 allowed') });
    expect(process.memoryUsage.rss() - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a bundle of 100 MB is refused without being read', async () => {
    const dir = await signed();
    truncateSync(join(dir, 'metadata.json.sigstore'), 100_000_000);
    expect(await verify(dir)).toMatchObject({ status: 'bundle-invalid', reason: expect.stringContaining('more than the 16777216 allowed') });
  });

  it('a bundle within the size limit but with thousands of log entries, timestamps or checkpoint lines is refused before any of them is compared', async () => {
    // sigstore-js compares log entries and timestamps pairwise for duplicates before verifying
    // any: 2,000 entries took a minute, the 40,000 that fit in 16 MiB would take hours.
    const dir = await signed();
    const path = join(dir, 'metadata.json.sigstore');
    const original = JSON.parse(readFileSync(path, 'utf8'));
    const entry = original.verificationMaterial.tlogEntries[0];
    const write = (edit: (bundle: typeof original) => void) => {
      const bundle = structuredClone(original);
      edit(bundle);
      writeFileSync(path, JSON.stringify(bundle));
    };
    write((b) => (b.verificationMaterial.tlogEntries = Array.from({ length: 2000 }, (_, i) => ({ ...entry, integratedTime: String(i + 1) }))));
    expect(await verify(dir)).toMatchObject({ status: 'bundle-invalid', reason: 'the bundle carries 2000 transparency log entries, more than the 16 a signature can need' });
    write((b) => (b.verificationMaterial.tlogEntries = Array.from({ length: 17 }, () => entry)));
    expect(await verify(dir)).toMatchObject({ status: 'bundle-invalid', reason: 'the bundle carries 17 transparency log entries, more than the 16 a signature can need' });
    const timestamp = { signedTimestamp: Buffer.from([0x30, 0x00]).toString('base64') };
    write((b) => (b.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: Array.from({ length: 17 }, () => timestamp) }));
    expect(await verify(dir)).toMatchObject({ status: 'bundle-invalid', reason: 'the bundle carries 17 RFC 3161 timestamps, more than the 16 a signature can need' });
    // Each signature line of a checkpoint that names a trusted log is checked with its key.
    const line = `\u2014 ${'x'.repeat(20)} ${Buffer.alloc(68).toString('base64')}\n`;
    write((b) => (b.verificationMaterial.tlogEntries[0].inclusionProof = { logIndex: '0', rootHash: 'AAAA', treeSize: '1', hashes: [], checkpoint: { envelope: `origin\n1\nAAAA\n\n${line.repeat(1000)}` } }));
    expect(await verify(dir)).toMatchObject({ status: 'bundle-invalid', reason: expect.stringMatching(/^the bundle carries \d+ bytes of checkpoint, more than the 65536 a signature can need$/) });
    writeFileSync(path, JSON.stringify(original));
    expect((await verify(dir)).status).toBe('verified');
  });

  it('metadata.json swapped for a directory or a FIFO is refused, not read or blocked on', async () => {
    const dir = await signed();
    renameSync(join(dir, 'metadata.json'), join(dir, 'old.json'));
    mkfifo(join(dir, 'metadata.json'));
    expect(await verify(dir)).toMatchObject({ status: 'metadata-invalid', reason: expect.stringContaining('is not a regular file') });
    rmSync(join(dir, 'metadata.json'));
    mkdirSync(join(dir, 'metadata.json'));
    expect((await verify(dir)).status).toBe('metadata-invalid');
    expect(readdirSync(dir)).toContain('old.json');
  });
});
