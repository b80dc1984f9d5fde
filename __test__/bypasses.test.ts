import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { mkfifo, tempDir } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';
import { PROC, skipUnless } from './helpers/platform.js';
import { unsignedVariant } from './helpers/variant.js';

// The attacks of the verifier-bypass issue, one case per class and entry point: whoever controls
// the kernel directory, the Hub server or a shared cache (not the signer) must never get a ✅
// over bytes the signature does not cover. Every refusal names its reason. SECURITY.md says
// what holds against whom.
const ks = (await import(DIST)) as typeof import('../dist/index.js');
const REPO = 'my-org/relu-kernel';
const IDENTITY = `https://github.com/${REPO}/.github/workflows/build.yaml@refs/heads/main`;
const ISSUER = 'https://token.actions.githubusercontent.com';
const VARIANT = 'torch210-cxx11-cu128-x86_64-linux';
const policy = ks.githubWorkflowPolicy({ repository: REPO });
const backends = [
  ['native', ks.createNativeBackend()],
  ['pure', ks.pureBackend],
] as const;

const sigstore = withMockSigstore();
let cliTrust: string[];
const hubs: MockHub[] = [];

beforeAll(() => {
  cliTrust = ['--trusted-root', sigstore.trustedRootPath, '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--offline'];
});
afterAll(async () => {
  await Promise.all(hubs.map((h) => h.close()));
});

const signer = () => ({ method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url }) as const;
async function signed(dir = unsignedVariant()) {
  await ks.signVariant(dir, { signer: signer() });
  return dir;
}

/** A package directory outside the variant, as an attacker would plant it. */
function plantedPackage(): string {
  const outside = tempDir('kernelseal-planted-');
  mkdirSync(join(outside, 'pkg'));
  writeFileSync(join(outside, 'pkg', '__init__.py'), 'import os; os.system("evil")\n');
  return join(outside, 'pkg');
}

describe('1. entries the walk does not hash fail verification and signing, naming them', () => {
  describe.each(backends)('%s backend', (_name, backend) => {
    const verify = (dir: string) => ks.verifyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, backend });

    it('a symlinked package directory that Python would import before the signed _ops.py', async () => {
      const dir = await signed();
      symlinkSync(plantedPackage(), join(dir, '_ops'));
      expect(await verify(dir)).toMatchObject({ status: 'entry-refused', entries: [{ path: '_ops', reason: 'directory-symlink' }] });
    });

    it("a symlinked directory pointing into the variant's own __pycache__", async () => {
      const dir = await signed();
      mkdirSync(join(dir, '__pycache__', 'pkg'), { recursive: true });
      writeFileSync(join(dir, '__pycache__', 'pkg', '__init__.py'), 'evil\n');
      symlinkSync('__pycache__/pkg', join(dir, '_ops'));
      // The symlink is refused whatever it points to; the bytecode directory is never the excuse.
      expect(await verify(dir)).toMatchObject({ status: 'entry-refused', entries: [{ path: '_ops', reason: 'directory-symlink' }] });
    });

    it('a FIFO, and a directory named *.pyc whose files the digest leaves out', async () => {
      const dir = await signed();
      mkfifo(join(dir, 'pipe.py'));
      mkdirSync(join(dir, 'odd.pyc'));
      writeFileSync(join(dir, 'odd.pyc', '__init__.py'), 'evil\n');
      expect(await verify(dir)).toMatchObject({
        status: 'entry-refused',
        entries: [
          { path: 'odd.pyc', reason: 'excluded-directory' },
          { path: 'pipe.py', reason: 'special-file' },
        ],
      });
    });

    it('the digest itself stays the reference one: the same files hash the same with the entries present', async () => {
      const dir = await signed();
      const before = await ks.hashVariant('sha256', dir, { backend });
      symlinkSync(plantedPackage(), join(dir, '_ops'));
      const after = await ks.hashTree('sha256', dir, { backend });
      expect(after.digest.files).toEqual(before.files);
      expect(after.unhashed).toEqual([{ path: '_ops', reason: 'directory-symlink' }]);
    });
  });

  it('verifyAndCopyVariant refuses a symlinked directory and keeps no copy', async () => {
    const dir = await signed();
    symlinkSync(plantedPackage(), join(dir, '_ops'));
    const into = tempDir();
    expect(await ks.verifyAndCopyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, into })).toMatchObject({ status: 'entry-refused', entries: [{ path: '_ops', reason: 'directory-symlink' }] });
    expect(readdirSync(into)).toEqual([]);
  });

  it('kernelseal verify exits 1 and names the entry', async () => {
    const dir = await signed();
    symlinkSync(plantedPackage(), join(dir, '_ops'));
    const { code, stdout } = await runCli(['verify', dir, ...cliTrust]);
    expect(code).toBe(1);
    expect(stdout).toBe(`❌ ${dir}: kernel integrity check failed, entries the signed digest cannot cover:\n_ops: a symlink to a directory: a loader would read what no digest covers\n`);
  });

  it('sign refuses a variant it could not later verify, and writes nothing', async () => {
    const dir = unsignedVariant();
    symlinkSync(plantedPackage(), join(dir, '_ops'));
    const before = readFileSync(join(dir, 'metadata.json'));
    await expect(ks.signVariant(dir, { signer: signer() })).rejects.toThrow(/refusing to sign: entries the digest would not cover[^]*_ops: a symlink to a directory/);
    expect(readFileSync(join(dir, 'metadata.json'))).toEqual(before);
    expect(existsSync(join(dir, 'metadata.json.sigstore'))).toBe(false);
  });
});

describe('2. whole-kernel verification leaves no variant out', () => {
  async function kernel() {
    const root = tempDir('kernelseal-kernel-');
    mkdirSync(join(root, 'build'));
    cpSync(unsignedVariant(), join(root, 'build', VARIANT), { recursive: true });
    await signed(join(root, 'build', VARIANT));
    cpSync(unsignedVariant(), join(root, 'other-place'), { recursive: true });
    return root;
  }

  it('a symlinked or non-directory entry of build/ is reported, not skipped', async () => {
    const root = await kernel();
    symlinkSync(join(root, 'other-place'), join(root, 'build', 'torch29-cxx11-cpu-x86_64-linux'));
    writeFileSync(join(root, 'build', 'notes.txt'), 'a file');
    const { code, stdout } = await runCli(['verify', root, ...cliTrust]);
    expect(code).toBe(1);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toContain(`❌ ${join(root, 'build', 'notes.txt')}: not a kernel variant: a file in build/, where only variant directories belong`);
    expect(lines).toContain(`❌ ${join(root, 'build', 'torch29-cxx11-cpu-x86_64-linux')}: not a kernel variant: a symlink in build/, where only variant directories belong`);
    expect(lines).toContain(`✅ ${join(root, 'build', VARIANT)}: kernel metadata is correctly signed; 6 files (265 kB) re-hashed`);
  });

  it('a root metadata.json beside a symlinked build/ is ambiguous: exit 2, nothing verified', async () => {
    const root = await kernel();
    const real = join(root, 'real-build');
    cpSync(join(root, 'build'), real, { recursive: true });
    rmSync(join(root, 'build'), { recursive: true });
    symlinkSync(real, join(root, 'build'));
    cpSync(join(root, 'build', VARIANT, 'metadata.json'), join(root, 'metadata.json')); // the root posing as a variant
    const { code, stdout, stderr } = await runCli(['verify', root, ...cliTrust]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/ambiguous: it has both metadata\.json \(a variant\) and build\/ \(a kernel\)/);
  });

  it('a symlinked build/ without a root metadata.json fails', async () => {
    const root = await kernel();
    rmSync(join(root, 'build'), { recursive: true });
    symlinkSync(join(root, 'other-place'), join(root, 'build'));
    const { code, stdout } = await runCli(['verify', root, ...cliTrust]);
    expect(code).toBe(1);
    expect(stdout).toBe(`❌ ${join(root, 'build')}: not a kernel variant: build is a symlink, not a directory\n`);
  });
});

describe('more ways around the verifier, found attacking it', () => {
  it.for(backends)('a file whose size says 0 but holds more (a /proc file behind a symlink) fails on the %s backend', async ([, backend], ctx) => {
    skipUnless(ctx, PROC, 'the file that says 0 bytes and holds more is /proc/self/cmdline (Linux)');
    const dir = unsignedVariant();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', '__init__.py'), '');
    await signed(dir);
    rmSync(join(dir, 'sub', '__init__.py'));
    symlinkSync('/proc/self/cmdline', join(dir, 'sub', '__init__.py'));
    expect(await ks.verifyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, backend })).toMatchObject({
      status: 'hash-failed',
      reason: expect.stringContaining('holds more than the 0 bytes its size says'),
    });
  });

  it('verifyAndCopyVariant copies nothing the digest does not list, and stops at the size a file had', async (ctx) => {
    skipUnless(ctx, PROC, 'the unlisted file, endless to read, is /proc/self/pagemap (Linux)');
    const dir = await signed();
    symlinkSync('/proc/self/pagemap', join(dir, 'zz.py'));
    const into = tempDir();
    const result = await ks.verifyAndCopyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, into });
    expect(result.status === 'digest-mismatch' && result.violations.map(String)).toEqual(['Unknown file: zz.py']);
    expect(readdirSync(into)).toEqual([]);
  });

  it('a signed CPU build copied under a CUDA variant name does not verify as that variant', async () => {
    const root = tempDir();
    const cpu = join(root, 'torch210-cxx11-cpu-x86_64-linux');
    cpSync(unsignedVariant(), cpu, { recursive: true });
    writeFileSync(join(cpu, 'metadata.json'), readFileSync(join(cpu, 'metadata.json'), 'utf8').replace('"type": "cuda"', '"type": "cpu"'));
    await signed(cpu);
    expect((await ks.verifyVariant(cpu, { policy, trustedRoot: sigstore.parsedRoot })).status).toBe('verified');
    const posing = join(root, 'torch210-cxx11-cu128-x86_64-linux');
    cpSync(cpu, posing, { recursive: true });
    expect(await ks.verifyVariant(posing, { policy, trustedRoot: sigstore.parsedRoot })).toMatchObject({
      status: 'metadata-invalid',
      reason: 'the directory is named as a cuda variant, but the signed metadata is for backend cpu',
    });
  });

  it('a variant directory or __init__.py beside build/ (where the kernels loader looks first) fails the kernel', async () => {
    const root = tempDir('kernelseal-kernel-');
    cpSync(unsignedVariant(), join(root, 'build', VARIANT), { recursive: true });
    await signed(join(root, 'build', VARIANT));
    mkdirSync(join(root, VARIANT));
    writeFileSync(join(root, VARIANT, '__init__.py'), 'evil\n');
    writeFileSync(join(root, '__init__.py'), 'evil\n');
    const { code, stdout } = await runCli(['verify', root, ...cliTrust]);
    expect(code).toBe(1);
    expect(stdout).toContain(`❌ ${join(root, '__init__.py')}: not a kernel variant: outside build/, where the kernels loader would load it`);
    expect(stdout).toContain(`❌ ${join(root, VARIANT)}: not a kernel variant: outside build/`);
    expect(stdout).toContain(`✅ ${join(root, 'build', VARIANT)}: kernel metadata is correctly signed`);
  });

  it('every JSON file read is read strictly: a repeated key, whose meaning depends on the parser, is refused', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'kernels.lock'), '[{"repo_id": "a/b", "sha": "x", "repo_id": "c/d", "variants": {}}]');
    await expect(ks.readLockfile(join(dir, 'kernels.lock'))).rejects.toThrow(/duplicate key "repo_id"/);
    writeFileSync(join(dir, 'root.json'), '{"mediaType": "a", "mediaType": "b"}');
    await expect(ks.readTrustedRoot(join(dir, 'root.json'))).rejects.toThrow(/duplicate key "mediaType"/);
  });

  it('names from the Hub or the cache in a refusal are quoted: none can pose as a line of output', async () => {
    const cacheDir = tempDir('kernelseal-cache-');
    const commit = 'c'.repeat(40);
    const repo = join(cacheDir, 'kernels--my-org--relu-kernel');
    mkdirSync(join(repo, 'refs'), { recursive: true });
    writeFileSync(join(repo, 'refs', 'v1'), commit);
    mkdirSync(join(repo, 'snapshots', commit, 'build', 'x\n✅ fake: kernel metadata is correctly signed'), { recursive: true });
    const error = await ks.getKernel(REPO, { cacheDir, offline: true, version: 1, selector: { backend: 'cpu' }, policy, trustedRoot: sigstore.parsedRoot }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'VARIANT_UNAVAILABLE', message: expect.stringContaining('available: "x\\n✅ fake: kernel metadata is correctly signed"') });
  });
});

describe('3. Python bytecode never gets a bare ✅', () => {
  async function withBytecode() {
    const dir = await signed();
    mkdirSync(join(dir, '__pycache__'));
    writeFileSync(join(dir, '__pycache__', 'layers.cpython-312.pyc'), 'planted bytecode');
    writeFileSync(join(dir, 'relu', 'stale.pyc'), 'planted');
    return dir;
  }

  it('by default: a distinct result naming the files, exit 1', async () => {
    const dir = await withBytecode();
    const { code, stdout } = await runCli(['verify', dir, ...cliTrust]);
    expect(code).toBe(1);
    expect(stdout.split('\n').slice(0, 3)).toEqual([
      `❌ ${dir}: Python bytecode that no signature covers (Python would run it instead of the signed sources):`,
      '__pycache__',
      'relu/stale.pyc',
    ]);
    const json = await runCli(['verify', dir, ...cliTrust, '--json']);
    expect(JSON.parse(json.stdout).results).toMatchObject([{ ok: false, status: 'bytecode-present', bytecode: ['__pycache__', 'relu/stale.pyc'] }]);
  });

  it('--remove-bytecode deletes it, then verifies; --allow-bytecode warns with ⚠️', async () => {
    const dir = await withBytecode();
    const allowed = await runCli(['verify', dir, ...cliTrust, '--allow-bytecode']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(`⚠️  ${dir}: Python bytecode kept and NOT verified (--allow-bytecode): __pycache__, relu/stale.pyc`);
    const removed = await runCli(['verify', dir, ...cliTrust, '--remove-bytecode']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('removed Python bytecode (Python rebuilds it from the verified sources): __pycache__, relu/stale.pyc');
    expect(existsSync(join(dir, '__pycache__')) || existsSync(join(dir, 'relu', 'stale.pyc'))).toBe(false);
    const both = await runCli(['verify', dir, ...cliTrust, '--allow-bytecode', '--remove-bytecode']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--remove-bytecode and --allow-bytecode exclude each other');
  });

  it('bytecode is refused only once everything else holds: a changed file is still the verdict', async () => {
    const dir = await withBytecode();
    writeFileSync(join(dir, 'layers.py'), 'changed\n');
    expect(await ks.verifyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot })).toMatchObject({ status: 'digest-mismatch' });
    expect(existsSync(join(dir, '__pycache__'))).toBe(true);
  });
});

describe('3 and 1 through the fetcher: getKernel never hands back bytecode or an unhashed entry', () => {
  async function hubWith(extra: (variantDir: string) => void) {
    const repoDir = tempDir('kernelseal-hub-repo-');
    const dir = join(repoDir, 'build', VARIANT);
    cpSync(unsignedVariant('relu-kernel'), dir, { recursive: true }); // named as its repository
    await signed(dir);
    extra(dir);
    const hub = await startMockHub([{ repoId: REPO, refs: { v1: repoDir } }]);
    hubs.push(hub);
    return hub;
  }
  const options = (hub: MockHub, cacheDir = tempDir('kernelseal-cache-')) => ({ endpoint: hub.url, cacheDir, policy, trustedRoot: sigstore.parsedRoot, version: 1, variant: VARIANT, onWarning: () => {} });

  it('downloads nothing the walk would leave out (a directory named x.pyc is not fetched either)', async () => {
    const hub = await hubWith((dir) => {
      mkdirSync(join(dir, 'x.pyc'));
      writeFileSync(join(dir, 'x.pyc', 'evil.py'), 'evil\n');
      mkdirSync(join(dir, '__pycache__'));
      writeFileSync(join(dir, '__pycache__', 'layers.cpython-312.pyc'), 'planted');
    });
    const kernel = await ks.getKernel(REPO, options(hub));
    expect(kernel.verified).toBe(true);
    expect(hub.requests.filter((r) => r.path.includes('.pyc'))).toEqual([]);
    expect(existsSync(join(kernel.path, 'x.pyc')) || existsSync(join(kernel.path, '__pycache__'))).toBe(false);
  });

  it('bytecode planted in the cache after a first load (or written by Python) is removed before the kernel is handed back', async () => {
    const hub = await hubWith(() => {});
    const opts = options(hub);
    const first = await ks.getKernel(REPO, opts);
    mkdirSync(join(first.path, '__pycache__'));
    writeFileSync(join(first.path, '__pycache__', '_ops.cpython-312.pyc'), 'planted');
    const second = await ks.getKernel(REPO, opts);
    expect(second.verified).toBe(true);
    expect(existsSync(join(second.path, '__pycache__'))).toBe(false);
  });

  it('a directory symlink planted in the cache after a first load is refused on the next load', async () => {
    const hub = await hubWith(() => {});
    const opts = options(hub);
    const first = await ks.getKernel(REPO, opts);
    symlinkSync(plantedPackage(), join(first.path, '_ops'));
    const error = await ks.getKernel(REPO, opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ks.KernelRefusedError);
    expect((error as InstanceType<typeof ks.KernelRefusedError>).result).toMatchObject({ status: 'entry-refused', entries: [{ path: '_ops', reason: 'directory-symlink' }] });
  });
});

describe('7. the command line', () => {
  it('-h after -- is an operand, not a request for help', async () => {
    const { code, stdout, stderr } = await runCli(['verify', ...cliTrust, '--', '-h']);
    expect(stdout).not.toContain('Usage:');
    expect(code).toBe(2);
    expect(stderr).toContain('-h: no such directory');
  });

  it('an empty path is a usage error', async () => {
    const { code, stderr } = await runCli(['verify', '', ...cliTrust]);
    expect(code).toBe(2);
    expect(stderr).toContain('an empty path');
  });

  it('a local path shaped like org/name@1 that exists is read as a path, never fetched', async () => {
    const cwd = tempDir();
    const dir = join(cwd, 'my-org', 'relu@1');
    mkdirSync(join(cwd, 'my-org'));
    cpSync(await signed(), dir, { recursive: true });
    const { code, stdout } = await runCli(['verify', 'my-org/relu@1', ...cliTrust], { cwd, env: { HF_ENDPOINT: 'http://127.0.0.1:9' } });
    expect(stdout).toBe(`✅ my-org/relu@1: kernel metadata is correctly signed; 6 files (265 kB) re-hashed\n${stdout.split('\n')[1]}\n`);
    expect(code).toBe(0);
  });

  it('control characters in file names are printed escaped: an ESC sequence cannot turn ❌ into ✅', async () => {
    const dir = await signed();
    writeFileSync(join(dir, '\u001b[2K\r✅ all good\n.py'), 'planted');
    const { code, stdout } = await runCli(['verify', dir, ...cliTrust]);
    expect(code).toBe(1);
    expect(stdout).not.toContain('\u001b');
    expect(stdout).toContain('Unknown file: \\x1b[2K\\x0d✅ all good\\x0a.py');
    expect(stdout.trimEnd().split('\n')).toHaveLength(2);
  });
});

describe('8. policies and trust anchors', () => {
  it('a pattern is compiled on its own before it is anchored: X)|(.* cannot escape the anchors', () => {
    expect(() => ks.parsePolicy({ identity: { regexp: 'X)|(.*' }, issuer: ISSUER })).toThrow(/invalid regular expression/);
    const anchored = ks.parsePolicy({ identity: { regexp: 'https://github\\.com/my-org/.*' }, issuer: ISSUER });
    expect(anchored.check({ subjectAlternativeName: 'https://evil.example/https://github.com/my-org/x', extensions: new Map([['1.3.6.1.4.1.57264.1.8', ISSUER]]), undecodable: new Map() } as never)).toMatch(/identity/);
  });

  it('GHSA-fx35-mq7g-6g98 (cosign): a public key a bundle carries or names is never what verifies it', async () => {
    // cosign trusted a public key found in a legacy bundle, skipping the identity checks. Here
    // an attacker signs with their own key B and ships the bundle as legacy v0.1, its
    // publicKey hint set to B's key itself, or to the name of the user's key A.
    const { generateKeyPairSync, createHash } = await import('node:crypto');
    const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const [a, b] = [pair(), pair()];
    const spki = (key: typeof a.publicKey) => key.export({ format: 'der', type: 'spki' });
    const pemOf = (key: typeof a.publicKey) => key.export({ format: 'pem', type: 'spki' }).toString();
    const idOf = (key: typeof a.publicKey) => createHash('sha256').update(spki(key)).digest('hex');
    const dir = unsignedVariant();
    await ks.signVariant(dir, { signer: { method: 'key', privateKey: b.privateKey, rekorURL: sigstore.url } });
    const path = join(dir, 'metadata.json.sigstore');
    const signedByB = JSON.parse(readFileSync(path, 'utf8'));
    expect(signedByB.verificationMaterial.publicKey).toBeDefined();
    expect((await ks.verifyVariant(dir, { key: b.publicKey, trustedRoot: sigstore.parsedRoot })).status).toBe('verified'); // B's signature is sound
    const aHint = createHash('sha256').update(spki(a.publicKey)).digest('base64');
    for (const hint of [pemOf(b.publicKey), spki(b.publicKey).toString('base64'), aHint]) {
      writeFileSync(path, JSON.stringify({ ...signedByB, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1', verificationMaterial: { ...signedByB.verificationMaterial, publicKey: { hint } } }));
      // Keyless trust: a key-signed bundle is refused, whatever key it names.
      expect(await ks.verifyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot })).toMatchObject({
        status: 'signature-invalid',
        reason: 'the bundle is signed with a key, not a certificate: verify it with --key and its public key',
      });
      // Key trust: the user's key A checks the signature, never the one the bundle names.
      expect(await ks.verifyVariant(dir, { key: a.publicKey, trustedRoot: sigstore.parsedRoot })).toMatchObject({
        status: 'signature-invalid',
        reason: expect.stringMatching(new RegExp(`^signature verification failed \\(checked with the key sha256:${idOf(a.publicKey)}; the bundle names the key `)),
      });
      const cli = await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--json']);
      expect(cli.code).toBe(1);
      expect(JSON.parse(cli.stdout).results).toEqual([expect.objectContaining({ status: 'signature-invalid', reason: expect.stringContaining('signed with a key, not a certificate') })]);
    }
    // cosign's own legacy bundle (base64Signature, cert, rekorBundle), its "cert" a public key: not a Sigstore bundle.
    writeFileSync(path, JSON.stringify({ base64Signature: signedByB.messageSignature.signature, cert: Buffer.from(pemOf(b.publicKey)).toString('base64'), rekorBundle: {} }));
    expect(await ks.verifyVariant(dir, { key: b.publicKey, trustedRoot: sigstore.parsedRoot })).toMatchObject({ status: 'bundle-invalid', reason: 'unsupported bundle media type (none)' });
  });

  it('a checkpoint signed by another trusted log than the entry names does not prove inclusion', async () => {
    // Two logs in the trusted root: the mock's (A), which logged the entry, and B. B signs a
    // checkpoint over the same tree; the entry still says it is in A.
    const { createHash, generateKeyPairSync, sign } = await import('node:crypto');
    const dir = unsignedVariant();
    await ks.signVariant(dir, { signer: { ...signer(), rekorVersion: 2, tsaURL: sigstore.tsaURL } });
    const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const bDer = b.publicKey.export({ format: 'der', type: 'spki' });
    const bLogId = createHash('sha256').update(bDer).digest();
    const root = structuredClone(sigstore.trustedRoot) as { tlogs: Array<Record<string, unknown>> };
    root.tlogs.push({ ...root.tlogs[0], publicKey: { ...(root.tlogs[0]!.publicKey as object), rawBytes: bDer.toString('base64') }, logId: { keyId: bLogId.toString('base64') } });
    const trustedRoot = ks.parseTrustedRoot(root, 'two logs');
    const verify = () => ks.verifyVariant(dir, { policy, trustedRoot });
    expect((await verify()).status).toBe('verified');

    const path = join(dir, 'metadata.json.sigstore');
    const bundle = JSON.parse(readFileSync(path, 'utf8'));
    const entry = bundle.verificationMaterial.tlogEntries[0];
    const envelope: string = entry.inclusionProof.checkpoint.envelope;
    const note = envelope.slice(0, envelope.indexOf('\n\n') + 1);
    const origin = note.split('\n')[0];
    const signedByB = Buffer.concat([bLogId.subarray(0, 4), sign('sha256', Buffer.from(note), b.privateKey)]);
    entry.inclusionProof.checkpoint.envelope = `${note}\n\u2014 ${origin} ${signedByB.toString('base64')}\n`;
    writeFileSync(path, JSON.stringify(bundle));
    expect(await verify()).toMatchObject({ status: 'signature-invalid', reason: 'invalid checkpoint signature' });
    // The same checkpoint for an entry that says it is in B: B vouches for that, and it verifies.
    entry.logId.keyId = bLogId.toString('base64');
    writeFileSync(path, JSON.stringify(bundle));
    expect((await verify()).status).toBe('verified');
  });

  it("a trusted identity's attestation about metadata.json (a DSSE statement naming its digest) is no signature of it", async () => {
    // The signer's CI may attest files it never built (a scan of a third-party kernel, say):
    // such a statement names the file's digest in a validly signed envelope.
    const { createHash } = await import('node:crypto');
    const dir = await signed(); // a digest in metadata.json; its message signature is replaced below
    const metadata = readFileSync(join(dir, 'metadata.json'));
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'metadata.json', digest: { sha256: createHash('sha256').update(metadata).digest('hex') } }],
      predicateType: 'https://example.com/vulnerability-scan/v1',
      predicate: { verdict: 'vulnerable' },
    };
    const envelope = await ks.signEnvelope(Buffer.from(JSON.stringify(statement)), 'application/vnd.in-toto+json', signer());
    writeFileSync(join(dir, 'metadata.json.sigstore'), ks.serializeBundle(envelope));
    const reason = 'the bundle holds a DSSE envelope (an attestation about metadata.json), not a signature of it: kernel metadata is signed as a message (cosign sign-blob)';
    expect(await ks.verifyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot })).toMatchObject({ status: 'signature-invalid', reason });
    expect(await ks.verifyAndCopyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, into: tempDir() })).toMatchObject({ status: 'signature-invalid', reason });
    // verify-bundle, a generic verifier like cosign's, still binds an envelope to its subject.
    expect(ks.verifyBundle(envelope, { bytes: metadata }, sigstore.parsedRoot, { policy }).identity).toBe(IDENTITY);
  });

  it('options with both a policy and a key are refused as ambiguous, never one silently dropped', async () => {
    const dir = await signed();
    const { publicKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    await expect(ks.verifyVariant(dir, { policy, key: publicKey, trustedRoot: sigstore.parsedRoot } as never)).rejects.toThrow(/ambiguous trust: policy and key/);
    await expect(ks.verifyVariant(dir, { policy, certificateChain: 'x', trustedRoot: sigstore.parsedRoot } as never)).rejects.toThrow(/ambiguous trust: policy and certificateChain/);
  });
});
