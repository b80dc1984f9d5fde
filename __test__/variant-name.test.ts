import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, ROOT, internal } from './helpers/package.js';
import { KERNEL_METADATA, unsignedVariant } from './helpers/variant.js';

// A loader picks a variant by its directory name (torch210-cxx11-cu128-x86_64-linux): each part
// of the name that the signed variant also states must agree with it, or a signed build for
// another platform, served under this name, would verify as this variant.
const ks = (await import(DIST)) as typeof import('../dist/index.js');
const { buildTargets } = (await import(internal('kernels/build-target.js'))) as typeof import('../dist/kernels/build-target.js');
const REPO = 'my-org/relu-kernel';
const policy = ks.githubWorkflowPolicy({ repository: REPO });
const sigstore = withMockSigstore();
const SHARED_OBJECT = '_relu_cuda_6a1b2c3.abi3.so';
const backends = [ks.createNativeBackend(), ks.pureBackend];

/** A real shared object: our own addon, as built on this machine (an ELF on Linux). */
const addon = readFileSync(join(ROOT, readdirSync(ROOT).find((name) => name.endsWith('.node'))!));
const isElf = addon.readUInt32BE(0) === 0x7f454c46;
/** The addon as if built for `machine` (ELF e_machine: 62 x86_64, 183 aarch64): a cross build differs there. */
function elfFor(machine: number): Buffer {
  const copy = Buffer.from(addon);
  copy.writeUInt16LE(machine, 18);
  return copy;
}

/** A variant named `name`, with `files` and `backend` in its metadata, signed. */
async function signedAs(name: string, backend: object, files: Record<string, Buffer> = {}) {
  const dir = join(tempDir(), name);
  cpSync(unsignedVariant(), dir, { recursive: true });
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...KERNEL_METADATA, backend }, null, 2));
  for (const [key, bytes] of Object.entries(files)) writeFileSync(join(dir, key), bytes);
  await ks.signVariant(dir, { signer: { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } });
  return dir;
}

/** The same signed files under another name: what a Hub or a shared cache could serve. */
function servedAs(dir: string, name: string): string {
  const posing = join(tempDir(), name);
  cpSync(dir, posing, { recursive: true });
  return posing;
}

describe('the variant name is bound to what the signed variant states', () => {
  it.skipIf(!isElf)('a signed torch29 cu118 aarch64 build does not verify as torch210-cxx11-cu128-x86_64-linux, on both backends and in the copy', async () => {
    const built = await signedAs('torch29-cxx11-cu118-aarch64-linux', { type: 'cuda', archs: ['8.0', '9.0'] }, { [SHARED_OBJECT]: elfFor(183) });
    const posing = servedAs(built, 'torch210-cxx11-cu128-x86_64-linux');
    const reason = `the directory is named as an x86_64-linux variant, but the signed ${SHARED_OBJECT} is built for aarch64-linux`;
    for (const backend of backends) {
      expect((await ks.verifyVariant(built, { policy, trustedRoot: sigstore.parsedRoot, backend })).status, backend.name).toBe('verified');
      expect(await ks.verifyVariant(posing, { policy, trustedRoot: sigstore.parsedRoot, backend }), backend.name).toMatchObject({ status: 'platform-mismatch', reason });
    }
    const into = tempDir();
    expect(await ks.verifyAndCopyVariant(posing, { policy, trustedRoot: sigstore.parsedRoot, into })).toMatchObject({ status: 'platform-mismatch', reason, path: posing });
    expect(readdirSync(into)).toEqual([]);
    expect((await ks.verifyAndCopyVariant(built, { policy, trustedRoot: sigstore.parsedRoot, into })).status).toBe('verified');
  });

  it.skipIf(!isElf)('an x86_64 Linux build does not verify as an aarch64, Windows or macOS variant; device code and other files state nothing', async () => {
    const built = await signedAs('torch210-cxx11-cu128-x86_64-linux', { type: 'cuda', archs: ['8.0'] }, { [SHARED_OBJECT]: elfFor(62), 'libextra.so.1': elfFor(62) });
    expect((await ks.verifyVariant(built, { policy, trustedRoot: sigstore.parsedRoot })).status).toBe('verified'); // kernels/relu_sm80.cubin is an ELF for the GPU
    for (const [name, os] of [['torch210-cxx11-cu128-aarch64-linux', 'aarch64-linux'], ['torch210-cu128-x86_64-windows', 'x86_64-windows'], ['torch210-metal-aarch64-darwin', 'aarch64-darwin']]) {
      const result = await ks.verifyVariant(servedAs(built, name!), { policy, trustedRoot: sigstore.parsedRoot });
      if (name!.includes('metal')) expect(result).toMatchObject({ status: 'metadata-invalid', reason: 'the directory is named as a metal variant, but the signed metadata is for backend cuda' });
      else expect(result, name).toMatchObject({ status: 'platform-mismatch', reason: `the directory is named as an ${os} variant, but the signed ${SHARED_OBJECT} is built for x86_64-linux` });
    }
    // A name without a platform (torch-cuda) states none to check.
    expect((await ks.verifyVariant(servedAs(built, 'torch-cuda'), { policy, trustedRoot: sigstore.parsedRoot })).status).toBe('verified');
  });

  it('a CUDA version in the name that cannot build the signed GPU architectures: metadata-invalid, on both backends', async () => {
    const blackwell = await signedAs('torch210-cxx11-cu128-x86_64-linux', { type: 'cuda', archs: ['9.0', '10.0'] });
    expect((await ks.verifyVariant(blackwell, { policy, trustedRoot: sigstore.parsedRoot })).status).toBe('verified');
    for (const backend of backends) {
      expect(await ks.verifyVariant(servedAs(blackwell, 'torch210-cxx11-cu118-x86_64-linux'), { policy, trustedRoot: sigstore.parsedRoot, backend })).toMatchObject({
        status: 'metadata-invalid',
        reason: 'the directory is named as a CUDA 11.8 variant, but the signed metadata is for GPU architecture 10.0, which only CUDA 12.8 and later can build for',
      });
    }
    // CUDA 13 no longer builds for Volta (7.0): a build for it is not a cu130 build.
    const volta = await signedAs('torch29-cxx11-cu126-x86_64-linux', { type: 'cuda', archs: ['7.0', '8.0'] });
    expect(await ks.verifyVariant(servedAs(volta, 'torch210-cxx11-cu130-x86_64-linux'), { policy, trustedRoot: sigstore.parsedRoot })).toMatchObject({
      status: 'metadata-invalid',
      reason: expect.stringContaining('GPU architecture 7.0, which only CUDA 6.0 to 12.9 can build for'),
    });
    // Archs the table does not know, or no archs at all, state no version.
    const unknown = await signedAs('torch210-cxx11-cu128-x86_64-linux', { type: 'cuda', archs: ['sm_999', '42.0'] });
    expect((await ks.verifyVariant(servedAs(unknown, 'torch210-cxx11-cu118-x86_64-linux'), { policy, trustedRoot: sigstore.parsedRoot })).status).toBe('verified');
  });

  it('reads ELF, Mach-O (thin and universal) and PE headers; GPU code and other files state nothing', () => {
    const elf = Buffer.alloc(64);
    elf.writeUInt32BE(0x7f454c46, 0);
    elf[5] = 1;
    elf.writeUInt16LE(183, 18);
    expect(buildTargets(elf)).toEqual([{ arch: 'aarch64', os: 'linux' }]);
    elf.writeUInt16LE(190, 18);
    expect(buildTargets(elf)).toBe('device'); // a CUDA .cubin
    elf.writeUInt16LE(40, 18);
    expect(buildTargets(elf)).toEqual([{ arch: 'ELF machine 40', os: 'linux' }]); // 32-bit ARM: never an x86_64 or aarch64 build
    const macho = Buffer.alloc(32);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeUInt32LE(0x0100000c, 4);
    expect(buildTargets(macho)).toEqual([{ arch: 'aarch64', os: 'darwin' }]);
    const fat = Buffer.alloc(8 + 40);
    fat.writeUInt32BE(0xcafebabe, 0);
    fat.writeUInt32BE(2, 4);
    fat.writeUInt32BE(0x01000007, 8);
    fat.writeUInt32BE(0x0100000c, 28);
    expect(buildTargets(fat)).toEqual([{ arch: 'x86_64', os: 'darwin' }, { arch: 'aarch64', os: 'darwin' }]);
    fat.writeUInt32BE(52, 4); // a Java class file (version 52) has the same magic
    expect(buildTargets(fat)).toBeUndefined();
    const pe = Buffer.alloc(256);
    pe.write('MZ', 0, 'latin1');
    pe.writeUInt32LE(0x80, 0x3c);
    pe.write('PE\0\0', 0x80, 'latin1');
    pe.writeUInt16LE(0x8664, 0x84);
    expect(buildTargets(pe)).toEqual([{ arch: 'x86_64', os: 'windows' }]);
    pe.writeUInt32LE(0xfffffff0, 0x3c); // a header offset past the bytes read
    expect(buildTargets(pe)).toBeUndefined();
    expect(buildTargets(Buffer.from('INPUT ( libc.so.6 )'))).toBeUndefined();
    expect(buildTargets(new Uint8Array(0))).toBeUndefined();
  });

  it('a shared object that became a FIFO after it was hashed is refused, not waited on', async () => {
    // The header is read after the digest holds; a swap in between must not hang the check.
    const { checkPlatform } = (await import(internal('kernels/verify-variant.js'))) as typeof import('../dist/kernels/verify-variant.js');
    const dir = join(tempDir(), 'torch210-cxx11-cu128-x86_64-linux');
    mkdirSync(dir);
    execFileSync('mkfifo', [join(dir, SHARED_OBJECT)]);
    expect(await checkPlatform('torch210-cxx11-cu128-x86_64-linux', dir, [SHARED_OBJECT])).toEqual({ status: 'hash-failed', reason: `${join(dir, SHARED_OBJECT)} is not a regular file` });
    rmSync(dir, { recursive: true });
  });
});
