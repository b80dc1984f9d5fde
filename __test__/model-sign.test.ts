// Signing models and verifying them back: every method, serialization and hash; then what
// must fail, and with which reason.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { identityToken } from './helpers/mock-sigstore.js';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { pseudoRandomBytes, tempDir, writeTree } from './helpers/fs.js';
import { dsse } from '@sigstore/core';
import { DIST, internal, testdata } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const { rootDigest } = (await import(internal('model/manifest.js'))) as typeof import('../dist/model/manifest.js');
type Manifest = import('../dist/index.js').ModelManifest;
const KEYS = testdata('model-signing', 'model-transparency', 'scripts', 'tests', 'keys', 'certificate');
const read = (path: string) => readFileSync(path, 'utf8');
const EMAIL = 'model-publisher@example.com';
const ISSUER = 'https://accounts.example.com';

const sigstore = withMockSigstore();

/** A small model: weights cut in shards by a 1 KiB shard size, config, a tokenizer below. */
function model(): string {
  return writeTree(tempDir('kernelseal-model-'), {
    'model.safetensors': pseudoRandomBytes(5000, 3),
    'config.json': '{"hidden_size": 64}',
    'tokenizer/vocab.txt': 'a\nb\nc\n',
    '.gitattributes': '*.safetensors filter=lfs',
  });
}

const keyPair = (namedCurve: string) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  return { privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
};
const keyless = () => ({ method: 'keyless' as const, identityToken: identityToken({ email: EMAIL, email_verified: true, iss: ISSUER, sub: EMAIL }), fulcioURL: sigstore.url, rekorURL: sigstore.url });
const policy = () => ({ policy: ks.identityPolicy(ks.exactly(EMAIL), ks.exactly(ISSUER)), trustedRoot: ks.parseTrustedRoot(sigstore.trustedRoot, 'mock') });
const certificateSigner = () => ({
  method: 'certificate' as const,
  privateKey: read(join(KEYS, 'signing-key.pem')),
  certificate: read(join(KEYS, 'signing-key-cert.pem')),
  chain: read(join(KEYS, 'int-ca-cert.pem')),
});
const envelopeOf = (signaturePath: string) => JSON.parse(read(signaturePath)).dsseEnvelope as { payload: string; signatures: Array<{ sig: string }> };

describe('round trips', () => {
  const serializations = [
    { hashType: 'sha256', shardSize: undefined },
    { hashType: 'blake2b', shardSize: undefined },
    { hashType: 'blake3', shardSize: undefined },
    { hashType: 'sha256', shardSize: 1024 },
    { hashType: 'blake2b', shardSize: 1024 },
    { hashType: 'blake3', shardSize: 1024 },
  ] as const;

  it.each(serializations)('a key signature of $hashType, shards $shardSize, made on the pure backend, verifies on the native one', async ({ hashType, shardSize }) => {
    const dir = model();
    const key = keyPair('P-256');
    const signed = await ks.signModel(dir, { signer: { method: 'key', privateKey: key.privateKey }, hashType, shardSize, backend: ks.pureBackend });
    expect(signed.signaturePath).toBe(join(dir, 'model.sig'));
    const names = signed.manifest.resources.map((r) => r.name);
    if (shardSize) expect(names.filter((n) => n.startsWith('model.safetensors:'))).toEqual(['0:1024', '1024:2048', '2048:3072', '3072:4096', '4096:5000'].map((r) => `model.safetensors:${r}`));
    else expect(names).toEqual(['config.json', 'model.safetensors', 'tokenizer/vocab.txt']);
    const result = await ks.verifyModel(dir, { key: key.publicKey, backend: ks.createNativeBackend() });
    expect(result).toMatchObject({ status: 'verified', manifest: { serialization: { hashType, method: shardSize ? 'shards' : 'files' } } });
  });

  it('writes what model_signing 1.1 writes: hint of the PEM, no log entry, keyid "", recorded ignore paths', async () => {
    const dir = model();
    const key = keyPair('P-256');
    await ks.signModel(dir, { signer: { method: 'key', privateKey: key.privateKey }, ignorePaths: ['tokenizer'] });
    const bundle = JSON.parse(read(join(dir, 'model.sig')));
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial).toEqual({ publicKey: { hint: expect.stringMatching(/^[0-9a-f]{64}$/) }, tlogEntries: [] });
    expect(bundle.dsseEnvelope.signatures).toEqual([{ sig: expect.any(String), keyid: '' }]);
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    expect(statement.subject[0].name).toBe(basename(dir));
    expect(statement.predicate.serialization).toEqual({
      method: 'files',
      hash_type: 'sha256',
      allow_symlinks: false,
      ignore_paths: ['.git', '.gitattributes', '.github', '.gitignore', 'model.sig', 'tokenizer'],
    });
    expect(statement.predicate.resources.map((r: { name: string }) => r.name)).toEqual(['config.json', 'model.safetensors']);
    // The tokenizer may change: it is not signed, and the signature says so.
    writeFileSync(join(dir, 'tokenizer/vocab.txt'), 'changed');
    expect((await ks.verifyModel(dir, { key: key.publicKey })).status).toBe('verified');
  });

  it('signs with ECDSA P-384 over SHA-384 and P-521 over SHA-512, as the reference chooses by curve', async () => {
    for (const [curve, hash] of [['P-384', 'sha384'], ['P-521', 'sha512']] as const) {
      const dir = model();
      const key = keyPair(curve);
      const { signaturePath } = await ks.signModel(dir, { signer: { method: 'key', privateKey: key.privateKey } });
      const envelope = envelopeOf(signaturePath);
      const pae = dsse.preAuthEncoding(ks.IN_TOTO_PAYLOAD_TYPE, Buffer.from(envelope.payload, 'base64'));
      const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64');
      expect(cryptoVerify(hash, pae, createPublicKey(key.publicKey), sig), curve).toBe(true);
      expect(cryptoVerify('sha256', pae, createPublicKey(key.publicKey), sig), curve).toBe(false);
      expect((await ks.verifyModel(dir, { key: key.publicKey })).status).toBe('verified');
    }
  });

  it('signs with a certificate of a private PKI, verified against its root CA', async () => {
    const dir = model();
    const { signaturePath } = await ks.signModel(dir, { signer: certificateSigner(), shardSize: 2048 });
    const chain = JSON.parse(read(signaturePath)).verificationMaterial.x509CertificateChain.certificates;
    expect(chain).toHaveLength(2); // leaf and intermediate; the root is the verifier's
    const result = await ks.verifyModel(dir, { certificateChain: read(join(KEYS, 'ca-cert.pem')) });
    expect(result).toMatchObject({ status: 'verified', signer: { method: 'certificate', identity: 'CN=intermediate-ca', issuer: 'CN=root-ca' } });
  });

  it('signs keylessly through Fulcio and Rekor (a dsse entry), verified with identity and issuer', async () => {
    const dir = model();
    const { signaturePath } = await ks.signModel(dir, { signer: keyless(), hashType: 'blake3' });
    const bundle = JSON.parse(read(signaturePath));
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(bundle.verificationMaterial.certificate).toBeDefined();
    const result = await ks.verifyModel(dir, policy());
    expect((result as { reason?: string }).reason).toBeUndefined();
    expect(result).toMatchObject({ status: 'verified', signer: { identity: EMAIL, issuer: ISSUER } });
    const other = await ks.verifyModel(dir, { ...policy(), policy: ks.identityPolicy(ks.exactly('someone@example.com'), ks.exactly(ISSUER)) });
    expect(other).toMatchObject({ status: 'signature-invalid', reason: expect.stringContaining('not trusted by the policy') });
  });

  it('signs a single file (resource ".") next to it, and accepts the specification\'s base-name form', async () => {
    const dir = model();
    const file = join(dir, 'model.safetensors');
    const key = keyPair('P-256');
    const signed = await ks.signModel(file, { signer: { method: 'key', privateKey: key.privateKey }, shardSize: 4096 });
    expect(signed.signaturePath).toBe(`${file}.sig`);
    expect(signed.manifest.resources.map((r) => r.name)).toEqual(['.:0:4096', '.:4096:5000']);
    expect((await ks.verifyModel(file, { key: key.publicKey })).status).toBe('verified');

    const specStyle = signed.manifest.resources.map((r) => ({ ...r, name: r.name.replace(/^\./, 'model.safetensors') }));
    const signature = join(dir, 'spec.sig');
    writeFileSync(signature, signStatement({ ...signed.manifest, resources: specStyle }, key.privateKey));
    expect((await ks.verifyModel(file, { key: key.publicKey, signature })).status).toBe('verified');
  });

  it('follows symlinks only when asked, and then hashes the target under the link name', async () => {
    const dir = model();
    const outside = join(tempDir(), 'shared-weights.bin');
    writeFileSync(outside, 'shared');
    symlinkSync(outside, join(dir, 'linked.bin'));
    const key = keyPair('P-256');
    await expect(ks.signModel(dir, { signer: { method: 'key', privateKey: key.privateKey } })).rejects.toThrow(/linked\.bin: is a symlink/);
    expect(existsSync(join(dir, 'model.sig'))).toBe(false);
    const signed = await ks.signModel(dir, { signer: { method: 'key', privateKey: key.privateKey }, allowSymlinks: true });
    expect(signed.manifest.resources.map((r) => r.name)).toContain('linked.bin');
    expect((await ks.verifyModel(dir, { key: key.publicKey })).status).toBe('verified');
    writeFileSync(outside, 'SHARED');
    expect((await ks.verifyModel(dir, { key: key.publicKey })).status).toBe('model-mismatch');
  });

  it('refuses an empty model and keys it cannot sign with, writing nothing', async () => {
    const key = keyPair('P-256');
    const empty = writeTree(tempDir(), { '.gitignore': 'x' });
    await expect(ks.signModel(empty, { signer: { method: 'key', privateKey: key.privateKey } })).rejects.toThrow(/no file to sign/);
    const dir = model();
    const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await expect(ks.signModel(dir, { signer: { method: 'key', privateKey: ed25519 } })).rejects.toThrow(/unsupported key type ed25519: use ECDSA P-256, ECDSA P-384, ECDSA P-521/);
    expect(existsSync(join(empty, 'model.sig')) || existsSync(join(dir, 'model.sig'))).toBe(false);
  });
});

/** A key-signed model signature over any statement: for statements the signer would not write. */
function signStatement(manifest: Manifest | Record<string, unknown>, privateKey: string, raw?: Buffer): string {
  const payload = raw ?? ks.statementPayload(manifest as Manifest);
  const sig = cryptoSign('sha256', dsse.preAuthEncoding(ks.IN_TOTO_PAYLOAD_TYPE, Buffer.from(payload)), privateKey);
  return JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: {}, tlogEntries: [] },
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: ks.IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sig.toString('base64') }] },
  });
}

/** A P-256 leaf issued by the reference's test intermediate CA, with these extensions. */
function leafOfIntermediate(extensions: string[]): { key: string; cert: string } {
  const dir = tempDir();
  const file = (name: string) => join(dir, name);
  const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file('key.pem'));
  run('req', '-new', '-key', file('key.pem'), '-subj', '/CN=model-release', '-out', file('csr.pem'));
  writeFileSync(file('ext.cnf'), `${extensions.join('\n')}\n`);
  run('x509', '-req', '-in', file('csr.pem'), '-CA', join(KEYS, 'int-ca-cert.pem'), '-CAkey', join(KEYS, 'int-ca-priv.pem'), '-set_serial', '7', '-days', '2', '-extfile', file('ext.cnf'), '-out', file('cert.pem'));
  return { key: read(file('key.pem')), cert: read(file('cert.pem')) };
}

/** A certificate-method signature made without signModel's checks, as another tool might. */
function certificateSigned(manifest: Manifest, leaf: { key: string; cert: string }): string {
  const bundle = JSON.parse(signStatement(manifest, leaf.key));
  const der = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').toString('base64');
  bundle.verificationMaterial = { x509CertificateChain: { certificates: [{ rawBytes: der(leaf.cert) }, { rawBytes: der(read(join(KEYS, 'int-ca-cert.pem')).slice(read(join(KEYS, 'int-ca-cert.pem')).indexOf('-----BEGIN'))) }] } };
  return JSON.stringify(bundle);
}

describe('what fails, and why', () => {
  const key = keyPair('P-256');
  const signed = async (options: { shardSize?: number } = {}) => {
    const dir = model();
    const result = await ks.signModel(dir, { signer: { method: 'key', privateKey: key.privateKey }, ...options });
    return { dir, manifest: result.manifest, signature: result.signaturePath };
  };
  const verify = (dir: string, options = {}) => ks.verifyModel(dir, { key: key.publicKey, ...options });
  const violations = async (dir: string) => {
    const result = await verify(dir);
    expect(result.status).toBe('model-mismatch');
    return (result as { violations: unknown[] }).violations.map(String);
  };

  it('a changed, a missing and an unknown file are each named', async () => {
    const { dir, manifest } = await signed();
    const before = manifest.resources.find((r) => r.name === 'config.json')!.digest;
    writeFileSync(join(dir, 'config.json'), '{"hidden_size": 65}');
    rmSync(join(dir, 'tokenizer/vocab.txt'));
    writeFileSync(join(dir, 'extra.bin'), 'x');
    const found = await violations(dir);
    expect(found).toEqual([
      expect.stringMatching(new RegExp(`^File hash mismatch for config\\.json: expected: sha256:${before}, got: sha256:[0-9a-f]{64}$`)),
      'Unknown file: extra.bin',
      'Missing file: tokenizer/vocab.txt',
    ]);
  });

  it('a changed byte in a sharded file names the shard it is in', async () => {
    const { dir } = await signed({ shardSize: 1024 });
    const weights = readFileSync(join(dir, 'model.safetensors'));
    weights[3000] ^= 1;
    writeFileSync(join(dir, 'model.safetensors'), weights);
    expect(await violations(dir)).toEqual(['File hash mismatch for model.safetensors: shards 2048:3072 differ']);
    writeFileSync(join(dir, 'model.safetensors'), weights.subarray(0, 4000));
    expect(await violations(dir)).toEqual(['File hash mismatch for model.safetensors: shards 2048:3072, 3072:4000, 3072:4096, 4096:5000 differ (5000 bytes when signed, 4000 now)']);
  });

  it('a tampered payload or signature fails the signature check', async () => {
    const { dir, signature } = await signed();
    const bundle = JSON.parse(read(signature));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    statement.predicate.resources[0].digest = '0'.repeat(64);
    writeFileSync(signature, JSON.stringify({ ...bundle, dsseEnvelope: { ...bundle.dsseEnvelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') } }));
    expect(await verify(dir)).toMatchObject({ status: 'signature-invalid', reason: expect.stringContaining('does not verify') });
  });

  it('reordered resources under a valid signature break the root digest: refused', async () => {
    const { dir, manifest, signature } = await signed();
    const statement = ks.buildStatement(manifest) as { predicate: { resources: unknown[] } };
    statement.predicate.resources.reverse();
    writeFileSync(signature, signStatement({}, key.privateKey, Buffer.from(JSON.stringify(statement))));
    expect(await verify(dir)).toMatchObject({ status: 'statement-invalid', reason: expect.stringContaining('not the root digest of the listed resources') });
  });

  it('a wrong root digest under a valid signature is refused', async () => {
    const { dir, manifest, signature } = await signed();
    const statement = ks.buildStatement(manifest) as { subject: Array<{ digest: { sha256: string } }> };
    statement.subject[0]!.digest.sha256 = 'f'.repeat(64);
    writeFileSync(signature, signStatement({}, key.privateKey, Buffer.from(JSON.stringify(statement))));
    expect(await verify(dir)).toMatchObject({ status: 'statement-invalid', reason: expect.stringContaining('manifest is inconsistent') });
  });

  it('a statement bound to another model fails on every file that differs', async () => {
    const { signature } = await signed();
    const other = writeTree(tempDir(), { 'config.json': '{"hidden_size": 64}', 'model.safetensors': 'other weights' });
    const found = await verify(other, { signature }).then((r) => (r as { violations: unknown[] }).violations.map(String));
    expect(found).toEqual([expect.stringMatching(/^File hash mismatch for model\.safetensors/), 'Missing file: tokenizer/vocab.txt']);
  });

  it('a statement that is not a model manifest is refused before anything is hashed', async () => {
    const { dir, manifest, signature } = await signed();
    const cases: Array<[(s: Record<string, any>) => void, RegExp]> = [
      [(s) => (s.predicateType = 'https://slsa.dev/provenance/v1'), /predicateType must be/],
      [(s) => (s.predicate.resources[0].name = '../escape'), /not a relative path inside the model/],
      [(s) => (s.predicate.resources[0].algorithm = 'md5'), /does not match the serialization/],
      [(s) => (s.predicate.serialization.extra = true), /unknown key "extra"/],
      [(s) => s.predicate.resources.push(s.predicate.resources[0]), /listed twice/],
      [(s) => (s.subject = []), /exactly one subject/],
    ];
    for (const [change, reason] of cases) {
      const statement = JSON.parse(JSON.stringify(ks.buildStatement(manifest)));
      change(statement);
      writeFileSync(signature, signStatement({}, key.privateKey, Buffer.from(JSON.stringify(statement))));
      expect(await verify(dir), String(reason)).toMatchObject({ status: 'statement-invalid', reason: expect.stringMatching(reason) });
    }
  });

  it('a missing signature, a bundle that is not one, and an anchor of another kind are told apart', async () => {
    const { dir, signature } = await signed();
    expect(await verify(dir, { signature: join(dir, 'nope.sig') })).toMatchObject({ status: 'signature-missing' });
    writeFileSync(join(dir, 'bad.sig'), '{"mediaType": "application/json"}');
    expect(await verify(dir, { signature: join(dir, 'bad.sig'), ignorePaths: ['bad.sig'] })).toMatchObject({ status: 'bundle-invalid', reason: expect.stringContaining('not a Sigstore bundle') });
    expect(await ks.verifyModel(dir, { certificateChain: read(join(KEYS, 'ca-cert.pem')), signature })).toMatchObject({ status: 'signature-invalid', reason: expect.stringContaining('verify it with --key') });
  });

  it('shards that leave a gap, or a v1.0 statement over the v0.2 encoding, are refused', async () => {
    const { dir, manifest, signature } = await signed({ shardSize: 1024 });
    const statement = ks.buildStatement(manifest) as { predicate: { resources: Array<{ name: string }> } };
    const gap = { ...statement, predicate: { ...statement.predicate, resources: statement.predicate.resources.filter((r) => r.name !== 'model.safetensors:1024:2048') } };
    const resources = gap.predicate.resources as Array<{ digest: string }>;
    const root = rootDigest(resources as never);
    (gap as unknown as { subject: Array<{ digest: { sha256: string } }> }).subject = [{ name: 'm', digest: { sha256: root } } as never];
    writeFileSync(signature, signStatement({}, key.privateKey, Buffer.from(JSON.stringify(gap))));
    expect(await verify(dir)).toMatchObject({ status: 'statement-invalid', reason: expect.stringContaining('do not cut it in 1024-byte pieces from byte 0') });

    const payload = ks.statementPayload(manifest);
    const legacy = Buffer.from(`DSSEV1 ${ks.IN_TOTO_PAYLOAD_TYPE.length} ${ks.IN_TOTO_PAYLOAD_TYPE} ${payload.length} b'${payload.toString('latin1').replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}'`);
    const bundle = JSON.parse(signStatement(manifest, key.privateKey));
    bundle.dsseEnvelope.signatures[0].sig = cryptoSign('sha256', legacy, key.privateKey).toString('base64');
    writeFileSync(signature, JSON.stringify(bundle));
    expect(await verify(dir)).toMatchObject({ status: 'statement-invalid', reason: expect.stringContaining("model_signing v0.2's encoding, which only signs v0.2 statements") });
  });

  it('a symlink to a directory is refused, and an ambiguous ignore path too', async () => {
    const { dir } = await signed();
    symlinkSync(tempDir(), join(dir, 'linked-dir'));
    expect(await verify(dir)).toMatchObject({ status: 'hash-failed', reason: expect.stringContaining('linked-dir: is a symlink') });
    rmSync(join(dir, 'linked-dir'));
    const cwd = process.cwd();
    const parent = join(dir, '..');
    writeTree(dir, { [`${basename(dir)}/x`]: 'a file named like the path from the parent' });
    writeFileSync(join(dir, 'x'), 'x');
    process.chdir(parent);
    try {
      const result = await verify(dir, { ignorePaths: [`${basename(dir)}/x`] });
      expect(result).toMatchObject({ status: 'hash-failed', reason: expect.stringContaining('is ambiguous') });
    } finally {
      process.chdir(cwd);
    }
  });

  it('a certificate of the same CA that is not for code signing, or has a critical extension nobody checks, cannot sign', async () => {
    const { dir, manifest, signature } = await signed();
    const ca = read(join(KEYS, 'ca-cert.pem'));
    for (const [extensions, reason] of [
      [['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth'], 'not for code signing'],
      [['keyUsage=critical,keyCertSign', 'extendedKeyUsage=codeSigning'], 'lacks digitalSignature'],
      [['extendedKeyUsage=codeSigning', '1.2.3.4=critical,ASN1:NULL'], 'critical extension kernelseal does not check (1.2.3.4)'],
    ] as const) {
      const leaf = leafOfIntermediate([...extensions]);
      await expect(ks.signModel(dir, { signer: { method: 'certificate', privateKey: leaf.key, certificate: leaf.cert, chain: read(join(KEYS, 'int-ca-cert.pem')) } })).rejects.toThrow(reason);
      writeFileSync(signature, certificateSigned(manifest, leaf));
      expect(await ks.verifyModel(dir, { certificateChain: ca }), reason).toMatchObject({ status: 'signature-invalid', reason: expect.stringContaining(reason) });
    }
    // The same construction with the right usages verifies: the refusals above are about usage.
    const good = leafOfIntermediate(['keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning', 'subjectAltName=email:release@example.com']);
    writeFileSync(signature, certificateSigned(manifest, good));
    expect(await ks.verifyModel(dir, { certificateChain: ca })).toMatchObject({ status: 'verified', signer: { identity: 'release@example.com' } });
    expect(await ks.verifyModel(dir, { certificateChain: ca, identity: ks.exactly('other@example.com') })).toMatchObject({ status: 'signature-invalid', reason: expect.stringContaining('identity is "release@example.com"') });
  });

  it('a CA limited to path length 0 cannot vouch for a leaf through an intermediate', async () => {
    const { dir, manifest, signature } = await signed();
    const work = tempDir();
    const file = (name: string) => join(work, name);
    const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: work });
    const ext = (name: string, lines: string[]) => writeFileSync(file(name), `${lines.join('\n')}\n`);
    ext('sub.cnf', ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign']);
    ext('leaf.cnf', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning']);
    for (const name of ['root', 'sub', 'leaf']) run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(`${name}.key`));
    run('req', '-x509', '-new', '-key', file('root.key'), '-subj', '/CN=limited-root', '-days', '2', '-config', '/dev/null', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign', '-out', file('root.pem'));
    const issue = (name: string, subject: string, ca: string) => {
      run('req', '-new', '-key', file(`${name}.key`), '-subj', subject, '-config', '/dev/null', '-out', file(`${name}.csr`));
      run('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.pem`), '-CAkey', file(`${ca}.key`), '-set_serial', '9', '-days', '2', '-extfile', file(`${name}.cnf`), '-out', file(`${name}.pem`));
    };
    issue('sub', '/CN=sub-ca', 'root');
    issue('leaf', '/CN=release', 'sub');
    const leaf = { key: read(file('leaf.key')), cert: read(file('leaf.pem')) };
    const bundle = JSON.parse(certificateSigned(manifest, leaf));
    const der = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').toString('base64');
    bundle.verificationMaterial.x509CertificateChain.certificates[1] = { rawBytes: der(read(file('sub.pem'))) };
    writeFileSync(signature, JSON.stringify(bundle));
    expect(await ks.verifyModel(dir, { certificateChain: read(file('root.pem')) })).toMatchObject({
      status: 'signature-invalid',
      reason: expect.stringContaining('may not have 1 CA certificates below it (path length 0)'),
    });
    // Trusting the intermediate itself is fine: nothing limits it.
    expect((await ks.verifyModel(dir, { certificateChain: read(file('sub.pem')) })).status).toBe('verified');
  });

  it('a signature of another key, with a hint naming it, fails naming the mismatch', async () => {
    const { dir } = await signed();
    expect(await ks.verifyModel(dir, { key: keyPair('P-256').publicKey })).toMatchObject({ status: 'signature-invalid', reason: expect.stringContaining('names another key') });
  });
});
