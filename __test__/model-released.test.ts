// Signatures made by released model_signing versions (v0.2.0 to v1.1.0, three methods each)
// and the OMS v1.0 specification's test vectors, verified offline.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { DIST, testdata } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const SIGNED = testdata('model-signing', 'model-transparency', 'scripts', 'tests');
const VECTORS = testdata('model-signing', 'model-signing-spec', 'test-vectors', 'v1.0');
const KEYS = join(SIGNED, 'keys', 'certificate');
const read = (path: string) => readFileSync(path, 'utf8');

const anchors = {
  sigstore: { policy: ks.identityPolicy(ks.exactly('stefanb@us.ibm.com'), ks.exactly('https://sigstore.verify.ibm.com/oauth2')) },
  'elliptic-key': { key: read(join(KEYS, 'signing-key-pub.pem')) },
  certificate: { certificateChain: read(join(KEYS, 'ca-cert.pem')) },
} as const;
type Method = keyof typeof anchors;

/** A CA of our own that signed nothing here, bearing the real root's name. */
function otherCA(): string {
  const dir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=root-ca', '-days', '2',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem')], { stdio: 'pipe' });
  return read(join(dir, 'ca.pem'));
}

const wrongAnchors: Record<Method, () => object> = {
  sigstore: () => ({ policy: ks.identityPolicy(ks.exactly('someone-else@us.ibm.com'), ks.exactly('https://sigstore.verify.ibm.com/oauth2')) }),
  'elliptic-key': () => ({ key: generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'pem', type: 'spki' }).toString() }),
  certificate: () => ({ certificateChain: otherCA() }),
};

const releases = readdirSync(SIGNED)
  .filter((name) => name !== 'keys')
  .sort()
  .map((name) => {
    const method = name.slice(name.indexOf('-') + 1) as Method;
    // v0.3.1 and v1.0.0 signed the file signme-1 alone with a key.
    const single = method === 'elliptic-key' && /^v(0\.3\.1|1\.0\.0)-/.test(name);
    const dir = join(SIGNED, name);
    return { name, method, dir, model: single ? join(dir, 'signme-1') : dir, signature: join(dir, 'model.sig') };
  });

describe('signatures of released model_signing versions', () => {
  it('covers v0.2.0 to v1.1.0 with all three methods (13 signatures)', () => {
    expect(releases.map((r) => r.name)).toHaveLength(13);
    expect(new Set(releases.map((r) => r.method))).toEqual(new Set(['sigstore', 'elliptic-key', 'certificate']));
  });

  it.each(releases)('$name verifies offline with the right $method anchor', async ({ method, model, signature, dir }) => {
    const result = await ks.verifyModel(model, { ...anchors[method], signature, ignorePaths: [join(dir, 'ignore-me')] });
    expect(result).toMatchObject({ status: 'verified' });
    if (result.status !== 'verified') return;
    expect(result.manifest.resources.map((r) => r.name).sort()).toEqual(model === dir ? ['signme-1', 'signme-2'] : ['.']);
    if (method === 'sigstore') expect(result.signer).toMatchObject({ identity: 'stefanb@us.ibm.com', issuer: 'https://sigstore.verify.ibm.com/oauth2' });
  });

  it.each(releases)('$name fails with the wrong $method anchor', async ({ method, model, signature, dir }) => {
    const result = await ks.verifyModel(model, { ...(wrongAnchors[method]() as typeof anchors.sigstore), signature, ignorePaths: [join(dir, 'ignore-me')] });
    expect(result.status).toBe('signature-invalid');
    const reason = (result as { reason: string }).reason;
    expect(reason).toMatch({ sigstore: /not trusted by the policy/, 'elliptic-key': /does not verify|another key/, certificate: /does not chain to a trusted CA/ }[method]);
  });

  it.each(releases)('$name refuses an anchor of another method with a reason', async ({ method, model, signature }) => {
    const other: Method = method === 'elliptic-key' ? 'certificate' : 'elliptic-key';
    const result = await ks.verifyModel(model, { ...(anchors[other] as typeof anchors.sigstore), signature });
    expect(result).toMatchObject({ status: 'signature-invalid', reason: expect.stringMatching(/signed (with|keylessly)/) });
  });

  it('fails v1.0.1 when the file the signer ignored is not ignored, naming it', async () => {
    for (const method of ['sigstore', 'elliptic-key', 'certificate'] as const) {
      const dir = join(SIGNED, `v1.0.1-${method}`);
      const result = await ks.verifyModel(dir, anchors[method] as typeof anchors.sigstore);
      expect(result).toMatchObject({ status: 'model-mismatch' });
      expect((result as { violations: unknown[] }).violations.map(String)).toEqual(['Unknown file: ignore-me']);
      // Checking only the signed files passes too.
      expect((await ks.verifyModel(dir, { ...(anchors[method] as typeof anchors.sigstore), ignoreUnsignedFiles: true })).status).toBe('verified');
    }
  });

  it('v1.1.0 records its ignore paths: no --ignore-paths needed', async () => {
    for (const method of ['sigstore', 'elliptic-key', 'certificate'] as const) {
      const result = await ks.verifyModel(join(SIGNED, `v1.1.0-${method}`), anchors[method] as typeof anchors.sigstore);
      expect(result.status).toBe('verified');
      if (result.status === 'verified') expect(result.manifest.serialization.ignorePaths).toContain('ignore-me');
    }
  });

  it('a private-PKI certificate that only a lenient reader would parse is a verdict, not a crash', async () => {
    // The leaf under another outer tag (SET for SEQUENCE): sigstore-js's reader lets it through,
    // OpenSSL (which names subjects and reads key usages here) does not.
    const dir = join(SIGNED, 'v1.1.0-certificate');
    const json = JSON.parse(read(join(dir, 'model.sig')));
    const leaf = Buffer.from(json.verificationMaterial.x509CertificateChain.certificates[0].rawBytes, 'base64');
    leaf[0] = 0x31;
    json.verificationMaterial.x509CertificateChain.certificates[0].rawBytes = leaf.toString('base64');
    const signature = join(tempDir(), 'model.sig');
    writeFileSync(signature, JSON.stringify(json));
    expect(await ks.verifyModel(dir, { ...anchors.certificate, signature })).toMatchObject({
      status: 'signature-invalid',
      reason: expect.stringMatching(/^certificate 0 of the bundle does not parse: /),
    });
    // Twenty certificates is more than any chain needs.
    json.verificationMaterial.x509CertificateChain.certificates = Array.from({ length: 20 }, () => json.verificationMaterial.x509CertificateChain.certificates[1]);
    writeFileSync(signature, JSON.stringify(json));
    expect(await ks.verifyModel(dir, { ...anchors.certificate, signature })).toMatchObject({
      status: 'signature-invalid',
      reason: 'the signature carries 20 certificates, more than the 16 a signature can need',
    });
  });

  it('reads the v0.2 legacy statement, signed over its odd pre-authentication encoding', async () => {
    const dir = join(SIGNED, 'v0.2.0-certificate');
    const signature = ks.parseModelSignature(read(join(dir, 'model.sig')));
    expect(signature.envelope.payload.toString()).toContain('https://model_signing/Digests/v0.1');
    const result = await ks.verifyModel(dir, anchors.certificate);
    expect(result).toMatchObject({ status: 'verified', manifest: { serialization: { method: 'files', hashType: 'sha256' } } });
  });
});

describe('the OMS v1.0 test vectors', () => {
  const model = join(SIGNED, 'v1.1.0-elliptic-key');
  // The model directory holds its own model.sig, which these vectors do not list.
  const options = { ignorePaths: ['model.sig'] };

  it.each([
    ['key', anchors['elliptic-key'], model],
    ['certificate', anchors.certificate, model],
    ['sigstore', anchors.sigstore, join(SIGNED, 'v1.1.0-sigstore')],
  ] as const)('valid/%s.bundle.json verifies', async (name, anchor, modelDir) => {
    const result = await ks.verifyModel(modelDir, { ...(anchor as typeof anchors.sigstore), ...options, signature: join(VECTORS, 'valid', `${name}.bundle.json`) });
    expect(result.status).toBe('verified');
  });

  it.each([
    ['invalid/empty', 'bundle-invalid', /not JSON/],
    ['invalid/missing-envelope', 'bundle-invalid', /dsseEnvelope is missing/],
    ['invalid/missing-verification-material', 'bundle-invalid', /verificationMaterial is missing/],
    ['invalid/missing-tlog-entries', 'signature-invalid', /tlog/i],
    // Its payload was changed under the key vector's signature: the signature fails first.
    ['invalid-payload/wrong-predicate', 'signature-invalid', /does not verify/],
  ] as const)('%s.bundle.json is refused (%s)', async (name, status, reason) => {
    const anchor = name.includes('tlog') ? anchors.sigstore : anchors['elliptic-key'];
    const result = await ks.verifyModel(model, { ...(anchor as typeof anchors.sigstore), ...options, signature: join(VECTORS, `${name}.bundle.json`) });
    expect(result).toMatchObject({ status, reason: expect.stringMatching(reason) });
  });

  it('the wrong-predicate statement itself is refused by statement validation', () => {
    const signature = ks.parseModelSignature(read(join(VECTORS, 'invalid-payload/wrong-predicate.bundle.json')));
    expect(() => ks.parseStatement(signature.envelope.payload)).toThrow(/predicateType must be https:\/\/model_signing\/signature\/v1.0/);
  });
});
