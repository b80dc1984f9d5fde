// Every way to sign that a signing command's help offers closes the loop with its verifier, as
// a user runs them: each key type listed, and certificates of an own PKI as openssl writes them
// (`openssl ca`: text before the block; a chain file with an intermediate and a root).
import { describe, expect, it, onTestFinished } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockSigstore } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { pseudoRandomBytes, tempDir, writeTree } from './helpers/fs.js';
import { runCli } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';
import { opensslCa } from './helpers/pki.js';

const sigstore = withMockSigstore();

/** Node's curve names for the ones the help texts list. */
const CURVES: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };

/** The ECDSA curves a command's help lists for --key, e.g. "(ECDSA P-256, P-384 or P-521;". */
async function helpedCurves(command: string): Promise<string[]> {
  const { stdout } = await runCli([command, '--help']);
  const line = /--key PEM +a managed private key \(([^)\n]*)/.exec(stdout)?.[1] ?? '';
  return line.match(/P-\d+/g) ?? [];
}

function keyFiles(namedCurve: string) {
  const dir = tempDir();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: CURVES[namedCurve]! });
  writeFileSync(join(dir, 'key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(dir, 'key.pub'), publicKey.export({ format: 'pem', type: 'spki' }));
  const id = createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex');
  return { key: join(dir, 'key.pem'), pub: join(dir, 'key.pub'), id };
}

const model = () => writeTree(tempDir('kernelseal-model-'), { 'model.onnx': pseudoRandomBytes(3000, 7), 'config.json': '{}' });
const ok = (result: { code: number | null; stdout: string; stderr: string }) => {
  expect(result.stderr + result.stdout).toMatch(/^✅ /);
  expect(result.code).toBe(0);
};

describe('every key type a signing command lists signs a bundle its verifier accepts', () => {
  it('the help texts list P-256 and P-384 (sign, sign-blob) and P-521 too (sign-model), and no Ed25519', async () => {
    expect(await helpedCurves('sign')).toEqual(['P-256', 'P-384']);
    expect(await helpedCurves('sign-blob')).toEqual(['P-256', 'P-384']);
    expect(await helpedCurves('sign-model')).toEqual(['P-256', 'P-384', 'P-521']);
    for (const command of ['sign', 'sign-blob', 'sign-model']) expect((await runCli([command, '--help'])).stdout).not.toMatch(/ed25519/i);
  });

  it.each(['P-256', 'P-384'])('sign then verify with an ECDSA %s key; the key ID printed is the real one', async (curve) => {
    expect(await helpedCurves('sign')).toContain(curve);
    const { key, pub, id } = keyFiles(curve);
    const dir = unsignedVariant();
    const signed = await runCli(['sign', dir, '--key', key, '--rekor-url', sigstore.url]);
    ok(signed);
    expect(signed.stdout).toContain(`signed with the key sha256:${id}`);
    const verified = await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--key', pub]);
    ok(verified);
    expect(verified.stdout).toContain(`signed with the key sha256:${id}`);
  });

  it.each(['P-256', 'P-384'])('sign-blob then verify-bundle with an ECDSA %s key, by file and by digest', async (curve) => {
    expect(await helpedCurves('sign-blob')).toContain(curve);
    const { key, pub, id } = keyFiles(curve);
    const blob = join(tempDir(), 'relu.whl');
    writeFileSync(blob, pseudoRandomBytes(5000, 11));
    const signed = await runCli(['sign-blob', blob, '--key', key, '--rekor-url', sigstore.url]);
    ok(signed);
    expect(signed.stdout).toContain(`signed with the key sha256:${id}`);
    const check = (subject: string) => runCli(['verify-bundle', '--bundle', `${blob}.sigstore.json`, '--trusted-root', sigstore.trustedRootPath, '--key', pub, subject]);
    ok(await check(blob));
    ok(await check(`sha256:${createHash('sha256').update(readFileSync(blob)).digest('hex')}`));
    const json = await runCli(['sign-blob', blob, '--key', key, '--rekor-url', sigstore.url, '--json']);
    expect(JSON.parse(json.stdout).results[0].signer.keyId).toBe(id);
  });

  it.each(['P-256', 'P-384', 'P-521'])('sign-model then verify-model with an ECDSA %s key', async (curve) => {
    expect(await helpedCurves('sign-model')).toContain(curve);
    const { key, pub, id } = keyFiles(curve);
    const dir = model();
    ok(await runCli(['sign-model', dir, '--key', key]));
    const verified = await runCli(['verify-model', dir, '--key', pub]);
    ok(verified);
    expect(verified.stdout).toContain(`signed with the key sha256:${id}`);
  });

  it('Ed25519, which no message-signature bundle verifies with, is refused before signing, naming the kinds that work', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ed25519.pem'), generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const blob = join(dir, 'a.bin');
    writeFileSync(blob, 'x');
    const variant = unsignedVariant();
    const before = readFileSync(join(variant, 'metadata.json'));
    for (const args of [['sign', variant], ['sign-blob', blob]]) {
      const { code, stdout } = await runCli([...args, '--key', join(dir, 'ed25519.pem'), '--rekor-url', sigstore.url]);
      expect(stdout).toContain('unsupported key type ed25519: use ECDSA P-256, ECDSA P-384');
      expect(code).toBe(1);
    }
    expect(readFileSync(join(variant, 'metadata.json'))).toEqual(before);
    expect(existsSync(join(variant, 'metadata.json.sigstore'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['a.bin', 'ed25519.pem']);
  });
});

describe('certificates of an own PKI, as openssl writes them', () => {
  it('openssl ca writes text before the block, and the chain file holds several blocks', () => {
    const { file } = opensslCa();
    expect(readFileSync(file('leaf.pem'), 'utf8')).toMatch(/^Certificate:\n[\s\S]+-----BEGIN CERTIFICATE-----/);
    expect(readFileSync(file('chain.pem'), 'utf8').match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
  });

  it('sign, sign-blob and sign-model take them, and verify, verify-bundle and verify-model trust the chain file', async () => {
    const { dir, file } = opensslCa();
    // The mock log stamps entries with its start time: start one once the certificates exist.
    const log = await startMockSigstore();
    onTestFinished(() => log.close());
    const pki = ['--key', file('leaf.key'), '--certificate', file('leaf.pem'), '--certificate-chain', file('chain.pem')];
    const trust = ['--trusted-root', log.trustedRootPath, '--certificate-chain', file('chain.pem'), '--certificate-identity', 'release-bot@example.com'];

    const variant = unsignedVariant();
    const signed = await runCli(['sign', variant, ...pki, '--rekor-url', log.url]);
    ok(signed);
    expect(signed.stdout).toContain('signed by release-bot@example.com');
    ok(await runCli(['verify', variant, ...trust]));

    const blob = join(dir, 'relu.whl');
    writeFileSync(blob, 'a wheel');
    ok(await runCli(['sign-blob', blob, ...pki, '--rekor-url', log.url]));
    ok(await runCli(['verify-bundle', '--bundle', `${blob}.sigstore.json`, ...trust, blob]));

    const weights = model();
    ok(await runCli(['sign-model', weights, ...pki]));
    ok(await runCli(['verify-model', weights, '--certificate-chain', file('chain.pem')]));
    ok(await runCli(['verify-model', weights, '--certificate-chain', file('root.pem')]));
  });

  it('a public key file with openssl text after the key verifies', async () => {
    const { file } = opensslCa();
    expect(readFileSync(file('leaf.pub'), 'utf8')).toMatch(/-----END PUBLIC KEY-----\n.*Public-Key/);
    const weights = model();
    ok(await runCli(['sign-model', weights, '--key', file('leaf.key')]));
    ok(await runCli(['verify-model', weights, '--key', file('leaf.pub')]));
  });
});

describe('PEM input an attacker or a slip could hand over is refused, naming the file and the reason', () => {
  it.each([
    ['a chain that holds no certificate', (f: (n: string) => string) => writeFileSync(f('chain.pem'), 'hello\n'), '--certificate-chain', 'it holds no PEM certificate'],
    ['a chain block that is not base64', (f: (n: string) => string) => writeFileSync(f('chain.pem'), '-----BEGIN CERTIFICATE-----\nMII*not-base64*\n-----END CERTIFICATE-----\n'), '--certificate-chain', 'certificate 0 is not valid base64'],
    ['a chain whose last block was cut off', (f: (n: string) => string) => writeFileSync(f('chain.pem'), readFileSync(f('chain.pem'), 'utf8').replace(/-----END CERTIFICATE-----\n$/, '')), '--certificate-chain', '1 of its 2 PEM blocks have no matching END line'],
    ['a certificate file with two certificates', (f: (n: string) => string) => writeFileSync(f('leaf.pem'), readFileSync(f('leaf.pem'), 'utf8') + readFileSync(f('root.pem'), 'utf8')), '--certificate', 'it holds 2 certificates, not one'],
  ])('%s: a usage error (exit 2)', async (_name, spoil, flag, reason) => {
    const { file } = opensslCa();
    spoil(file);
    const blob = join(tempDir(), 'a.bin');
    writeFileSync(blob, 'x');
    const { code, stderr } = await runCli(['sign-blob', blob, '--key', file('leaf.key'), '--certificate', file('leaf.pem'), '--certificate-chain', file('chain.pem'), '--rekor-url', sigstore.url]);
    expect(stderr).toContain(`${flag} ${file(flag === '--certificate' ? 'leaf.pem' : 'chain.pem')}: ${reason}`);
    expect(code).toBe(2);
    expect(existsSync(`${blob}.sigstore.json`)).toBe(false);
  });

  it('a chain of another CA, or missing its intermediate, does not hold: nothing is signed', async () => {
    const { file } = opensslCa();
    const other = opensslCa();
    const blob = join(tempDir(), 'a.bin');
    writeFileSync(blob, 'x');
    for (const chain of [other.file('chain.pem'), file('root.pem')]) {
      const { code, stdout } = await runCli(['sign-blob', blob, '--key', file('leaf.key'), '--certificate', file('leaf.pem'), '--certificate-chain', chain, '--rekor-url', sigstore.url]);
      expect(stdout).toContain('the certificate chain does not hold: the signing certificate CN=release-bot does not chain to a trusted CA certificate');
      expect(code).toBe(1);
      expect(existsSync(`${blob}.sigstore.json`)).toBe(false);
    }
  });

  it('a key file with two private keys is refused rather than one picked', async () => {
    const dir = tempDir();
    const pemOf = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    writeFileSync(join(dir, 'two.pem'), pemOf() + pemOf());
    const { code, stdout, stderr } = await runCli(['sign', unsignedVariant(), '--key', join(dir, 'two.pem'), '--rekor-url', sigstore.url]);
    expect(stdout).toBe('');
    expect(stderr).toContain(`--key ${join(dir, 'two.pem')}: it holds 2 private keys, not one`);
    expect(code).toBe(2);
  });
});
