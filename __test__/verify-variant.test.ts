import { describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.js';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { DIST } from './helpers/package.js';
import { KERNEL_METADATA, readJSON, unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

const REPO = 'my-org/relu-kernel';
const policy = ks.githubWorkflowPolicy({ repository: REPO, workflow: '.github/workflows/build.yaml', ref: 'refs/heads/main' });
const sigstore = withMockSigstore();

const keyless = (rekorVersion: 1 | 2 = 1, claims = githubActionsClaims(REPO)) =>
  ({
    method: 'keyless',
    identityToken: identityToken(claims),
    fulcioURL: sigstore.url,
    rekorURL: sigstore.url,
    rekorVersion,
    tsaURL: rekorVersion === 2 ? sigstore.tsaURL : undefined,
  }) as const;

async function signedVariant(options: { rekorVersion?: 1 | 2; algorithm?: 'sha256' | 'sha512' } = {}) {
  const dir = unsignedVariant();
  await ks.signVariant(dir, { signer: keyless(options.rekorVersion), algorithm: options.algorithm });
  return dir;
}

const verify = (dir: string, anchor: { policy: typeof policy } | { key: string } | { policy: typeof policy; bytecode: 'allow' } = { policy }) =>
  ks.verifyVariant(dir, { ...anchor, trustedRoot: sigstore.parsedRoot });
const b64 = (data: Buffer | string) => createHash('sha256').update(data).digest('base64');

describe('verifyVariant on variants signed in the test', () => {
  it('verifies a keyless-signed variant (Rekor v1) and says who signed it', async () => {
    const dir = await signedVariant();
    const result = await verify(dir);
    expect(result.status).toBe('verified');
    if (result.status !== 'verified') return;
    expect(result.signer).toMatchObject({
      method: 'certificate',
      identity: `https://github.com/${REPO}/.github/workflows/build.yaml@refs/heads/main`,
      issuer: 'https://token.actions.githubusercontent.com',
      sourceRepository: `https://github.com/${REPO}`,
      workflow: `https://github.com/${REPO}/.github/workflows/build.yaml@refs/heads/main`,
      ref: 'refs/heads/main',
      commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    });
    expect(result.signer.logIndex).toMatch(/^\d+$/);
    expect(Date.parse(result.signer.signedAt!)).toBeGreaterThan(Date.now() - 3600_000);
    expect(result.metadata).toMatchObject({ name: 'relu', version: 1, backend: { type: 'cuda' } });
    expect([...result.digest.files.keys()]).toEqual([
      '__init__.py',
      '_ops.py',
      '_relu_cuda_6a1b2c3.abi3.so',
      'kernels/relu_sm80.cubin',
      'layers.py',
      'relu/__init__.py',
    ]);
    const cubin = readFileSync(join(dir, 'kernels', 'relu_sm80.cubin'));
    expect(cubin.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(result.digest.files.get('kernels/relu_sm80.cubin')).toBe(b64(cubin));
  });

  it('verifies a variant logged to Rekor v2 with an RFC 3161 timestamp, and a sha512 digest', async () => {
    const dir = await signedVariant({ rekorVersion: 2, algorithm: 'sha512' });
    const result = await verify(dir);
    expect(result).toMatchObject({ status: 'verified', signer: { logIndex: '0' } });
    expect(readJSON(join(dir, 'metadata.json')).digest.algorithm).toBe('sha512');
    const bundle = readJSON(join(dir, 'metadata.json.sigstore'));
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
  });

  it('1. signature missing', async () => {
    const dir = await signedVariant();
    rmSync(join(dir, 'metadata.json.sigstore'));
    expect(await verify(dir)).toEqual({ path: dir, status: 'signature-missing' });
  });

  it.each([
    ['truncated', (text: string) => text.slice(0, text.length / 2), /not valid JSON/],
    ['not JSON', () => 'hello', /not valid JSON/],
    ['of an unknown media type', (text: string) => text.replace('bundle.v0.3+json', 'bundle.v9.9+json'), /unsupported bundle media type/],
    ['without a signature', (text: string) => JSON.stringify({ ...JSON.parse(text), messageSignature: undefined }), /invalid bundle: missing or invalid content/],
  ])('2. bundle invalid: %s', async (_name, edit, reason) => {
    const dir = await signedVariant();
    const path = join(dir, 'metadata.json.sigstore');
    writeFileSync(path, edit(readFileSync(path, 'utf8')));
    const result = await verify(dir);
    expect(result.status).toBe('bundle-invalid');
    expect(result).toMatchObject({ reason: expect.stringMatching(reason) });
  });

  it('2. bundle invalid: a huge bundle is refused without being read', async () => {
    const dir = await signedVariant();
    truncateSync(join(dir, 'metadata.json.sigstore'), 100 * 1024 * 1024);
    expect(await verify(dir)).toMatchObject({ status: 'bundle-invalid', reason: expect.stringContaining('more than the 16777216 allowed') });
  });

  it('3. metadata missing', async () => {
    const dir = await signedVariant();
    rmSync(join(dir, 'metadata.json'));
    expect(await verify(dir)).toEqual({ path: dir, status: 'metadata-missing' });
  });

  it('4. signature invalid: metadata.json re-serialized (same JSON, other bytes)', async () => {
    const dir = await signedVariant();
    const path = join(dir, 'metadata.json');
    writeFileSync(path, JSON.stringify(readJSON(path), null, 4));
    expect(await verify(dir)).toMatchObject({ status: 'signature-invalid', reason: expect.stringMatching(/sha256 does not match the bundle's message digest/) });
  });

  it('4. signature invalid: a bundle made for another file', async () => {
    const [a, b] = await Promise.all([signedVariant(), signedVariant({ algorithm: 'sha512' })]);
    writeFileSync(join(a, 'metadata.json.sigstore'), readFileSync(join(b, 'metadata.json.sigstore')));
    expect(await verify(a)).toMatchObject({ status: 'signature-invalid' });
  });

  it('4. signature invalid: a signer outside the policy, with the mismatching field named', async () => {
    const dir = unsignedVariant();
    await ks.signVariant(dir, { signer: keyless(1, githubActionsClaims('evil-org/relu-kernel')) });
    const result = await verify(dir);
    expect(result).toMatchObject({
      status: 'signature-invalid',
      reason: `the signer is not trusted by the policy: source repository URI (1.3.6.1.4.1.57264.1.12) is "https://github.com/evil-org/relu-kernel", expected "https://github.com/${REPO}"`,
    });
    // The default kernels-community policy refuses it too.
    expect(await ks.verifyVariant(dir, { policy: ks.kernelsCommunityPolicy, trustedRoot: sigstore.parsedRoot })).toMatchObject({ status: 'signature-invalid' });
  });

  it('4. signature invalid: an identity regex that matches only unanchored', async () => {
    const dir = await signedVariant();
    const unanchored = ks.identityPolicy(ks.matching(`${REPO}/\\.github/workflows/build\\.yaml`), ks.exactly('https://token.actions.githubusercontent.com'));
    expect(await ks.verifyVariant(dir, { policy: unanchored, trustedRoot: sigstore.parsedRoot })).toMatchObject({ status: 'signature-invalid', reason: expect.stringContaining('expected matching ^(?:') });
    const anchored = ks.identityPolicy(ks.matching(`https://github\\.com/${REPO}/\\.github/workflows/build\\.yaml@refs/heads/.*`), ks.exactly('https://token.actions.githubusercontent.com'));
    expect(await ks.verifyVariant(dir, { policy: anchored, trustedRoot: sigstore.parsedRoot })).toMatchObject({ status: 'verified' });
  });

  it('4. signature invalid: another trusted root (the public-good one)', async () => {
    const dir = await signedVariant();
    expect(await ks.verifyVariant(dir, { policy })).toMatchObject({ status: 'signature-invalid' });
  });

  it('5. metadata invalid: signed metadata that violates the schema is refused after the signature holds', async () => {
    const dir = unsignedVariant();
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...KERNEL_METADATA, backend: { type: 'quantum' } }));
    // signVariant refuses metadata verification would reject: signed as another signer might.
    const bundle = await ks.signBytes(readFileSync(join(dir, 'metadata.json')), keyless());
    writeFileSync(join(dir, 'metadata.json.sigstore'), ks.serializeBundle(bundle));
    expect(await verify(dir)).toMatchObject({ status: 'metadata-invalid', reason: expect.stringContaining('backend.type "quantum" is not one of') });
  });

  it('6. digest missing: signed metadata without a digest', async () => {
    const dir = unsignedVariant();
    const bundle = await ks.signBytes(readFileSync(join(dir, 'metadata.json')), keyless());
    writeFileSync(join(dir, 'metadata.json.sigstore'), ks.serializeBundle(bundle));
    expect(await verify(dir)).toEqual({ path: dir, status: 'digest-missing' });
  });

  it('7. digest mismatch: a tampered .so, a removed file, an added file, in the reference order', async () => {
    const dir = await signedVariant();
    const so = join(dir, '_relu_cuda_6a1b2c3.abi3.so');
    const original = readFileSync(so);
    const tampered = Buffer.from(original);
    tampered[1000] ^= 1;
    writeFileSync(so, tampered);
    rmSync(join(dir, 'layers.py'));
    writeFileSync(join(dir, 'backdoor.py'), 'import os\n');
    const result = await verify(dir);
    expect(result.status).toBe('digest-mismatch');
    if (result.status !== 'digest-mismatch') return;
    expect(result.violations.map(String)).toEqual([
      `File hash mismatch for _relu_cuda_6a1b2c3.abi3.so: expected: ${b64(original)}, got: ${b64(tampered)}`,
      'Missing file: layers.py',
      'Unknown file: backdoor.py',
    ]);
  });

  it('8. a planted .pyc is not covered by the digest: refused unless removed or allowed', async () => {
    const dir = await signedVariant();
    writeFileSync(join(dir, 'layers.cpython-312.pyc'), 'cached');
    expect(await verify(dir)).toMatchObject({ status: 'bytecode-present', paths: ['layers.cpython-312.pyc'] });
    expect(await verify(dir, { policy, bytecode: 'allow' })).toMatchObject({ status: 'verified', bytecode: { action: 'allowed', paths: ['layers.cpython-312.pyc'] } });
    expect(existsSync(join(dir, 'layers.cpython-312.pyc'))).toBe(true);
  });

  it('7. hash failed: a dangling symlink planted in the variant', async () => {
    const dir = await signedVariant();
    symlinkSync('/nonexistent/libevil.so', join(dir, 'libevil.so'));
    expect(await verify(dir)).toMatchObject({ status: 'hash-failed', reason: expect.stringContaining('dangling symlink to /nonexistent/libevil.so') });
  });

  it('refuses to verify without a policy or a key', async () => {
    const dir = await signedVariant();
    await expect(ks.verifyVariant(dir, {} as never)).rejects.toThrow(/needs a policy \(who is trusted\), a publisher list, a key or a CA chain/);
  });
});

describe('managed keys', () => {
  it.each([
    ['ECDSA P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['ECDSA P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
  ])('sign and verify with %s', async (_name, generate) => {
    const { privateKey, publicKey } = generate();
    const dir = unsignedVariant();
    await ks.signVariant(dir, { signer: { method: 'key', privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), rekorURL: sigstore.url } });
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const result = await verify(dir, { key: pem });
    expect(result).toMatchObject({ status: 'verified', signer: { method: 'key', keyId: createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex') } });
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const other = otherKey.export({ format: 'pem', type: 'spki' }).toString();
    const keyId = (key: typeof publicKey) => createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('hex');
    // The failure names the key tried and the key the bundle names.
    expect(await verify(dir, { key: other })).toMatchObject({
      status: 'signature-invalid',
      reason: `signature verification failed (checked with the key sha256:${keyId(otherKey)}; the bundle names the key sha256:${keyId(publicKey)})`,
    });
    expect(await verify(dir)).toMatchObject({ status: 'signature-invalid', reason: expect.stringContaining('signed with a key, not a certificate') });
  });

  it('a keyless bundle is not accepted as signed by a key', async () => {
    const dir = await signedVariant();
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(await verify(dir, { key })).toMatchObject({ status: 'signature-invalid', reason: expect.stringContaining('signed with a certificate, not a key') });
  });
});

describe('verifyVariant hashes while it reads the signed digest', () => {
  it('still decides by the first failing step: signed metadata for another backend beats a file that cannot be hashed', async () => {
    const dir = unsignedVariant(); // named as a CUDA variant
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...KERNEL_METADATA, backend: { type: 'cpu' } }));
    await ks.signVariant(dir, { signer: keyless() });
    symlinkSync(join(dir, 'gone.py'), join(dir, 'dangling.py'));
    expect(await verify(dir)).toMatchObject({ status: 'metadata-invalid', reason: expect.stringContaining('named as a cuda variant') });
    rmSync(join(dir, 'dangling.py'));
    expect(await verify(dir)).toMatchObject({ status: 'metadata-invalid' });
  });

  it('is cancelled by its signal, hashing started or not', async () => {
    const dir = await signedVariant();
    const reason = new Error('cancelled by the caller');
    await expect(ks.verifyVariant(dir, { policy, trustedRoot: sigstore.parsedRoot, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const sha512 = await signedVariant({ algorithm: 'sha512' });
    await expect(ks.verifyVariant(sha512, { policy, trustedRoot: sigstore.parsedRoot, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });
});
