// kernelseal verify-model and sign-model, as a user runs them.
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { identityToken } from './helpers/mock-sigstore.js';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { pseudoRandomBytes, tempDir, writeTree } from './helpers/fs.js';
import { runCli, testdata } from './helpers/package.js';

const SIGNED = testdata('model-signing', 'model-transparency', 'scripts', 'tests');
const KEYS = join(SIGNED, 'keys', 'certificate');
const SIGSTORE_TRUST = ['--identity', 'stefanb@us.ibm.com', '--issuer', 'https://sigstore.verify.ibm.com/oauth2', '--offline'];

const sigstore = withMockSigstore();

function keyFiles(): { privateKey: string; publicKey: string } {
  const dir = tempDir();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  writeFileSync(join(dir, 'key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(dir, 'key.pub'), publicKey.export({ format: 'pem', type: 'spki' }));
  return { privateKey: join(dir, 'key.pem'), publicKey: join(dir, 'key.pub') };
}

const model = () => writeTree(tempDir('kernelseal-model-'), { 'model.onnx': pseudoRandomBytes(3000, 7), 'config.json': '{}' });

describe('kernelseal verify-model', () => {
  it('verifies a released keyless signature offline and says who signed', async () => {
    const { code, stdout } = await runCli(['verify-model', join(SIGNED, 'v1.1.0-sigstore'), ...SIGSTORE_TRUST]);
    expect(stdout).toMatch(/^✅ .*v1\.1\.0-sigstore: model signature verified: 2 files, 16 B re-hashed \(sha256, files\)\n {3}signed by stefanb@us\.ibm\.com, issuer https:\/\/sigstore\.verify\.ibm\.com\/oauth2, at 2025-/);
    expect(code).toBe(0);
  });

  it('names the file the signer left out, exits 1, and passes once it is ignored', async () => {
    const dir = join(SIGNED, 'v1.0.1-certificate');
    const chain = ['--certificate-chain', join(KEYS, 'ca-cert.pem')];
    const failed = await runCli(['verify-model', dir, ...chain]);
    expect(failed.stdout).toContain('model integrity check failed\nUnknown file: ignore-me\n(files the signature does not list fail verification');
    expect(failed.code).toBe(1);
    const passed = await runCli(['verify-model', dir, ...chain, '--ignore-paths', 'ignore-me']);
    expect(passed.stdout).toMatch(/^✅ /);
    expect(passed.code).toBe(0);
  });

  it('--json gives the status, the signer and the violations', async () => {
    const good = await runCli(['verify-model', join(SIGNED, 'v1.0.0-elliptic-key', 'signme-1'), '--signature', join(SIGNED, 'v1.0.0-elliptic-key', 'model.sig'), '--key', join(KEYS, 'signing-key-pub.pem'), '--json']);
    expect(JSON.parse(good.stdout).results[0]).toMatchObject({ ok: true, status: 'verified', signer: { method: 'key' }, model: { name: 'signme-1', resources: 1 } });
    const bad = await runCli(['verify-model', join(SIGNED, 'v1.0.1-elliptic-key'), '--key', join(KEYS, 'signing-key-pub.pem'), '--json']);
    expect(JSON.parse(bad.stdout).results[0]).toMatchObject({ ok: false, status: 'model-mismatch', violations: [{ kind: 'unknown-file', path: 'ignore-me', message: 'Unknown file: ignore-me' }] });
    expect(bad.code).toBe(1);
  });

  it('refuses to run without saying who is trusted, and half an identity (exit 2)', async () => {
    const dir = join(SIGNED, 'v1.1.0-sigstore');
    for (const args of [[], ['--identity', 'x@example.com'], ['--identity', 'a', '--certificate-identity', 'b', '--issuer', 'c']]) {
      const { code, stderr } = await runCli(['verify-model', dir, ...args]);
      expect(stderr).toMatch(/^kernelseal verify-model: /);
      expect(code).toBe(2);
    }
  });

  it('a wrong key is a signature failure with the reason (exit 1)', async () => {
    const { publicKey } = keyFiles();
    const { code, stdout } = await runCli(['verify-model', join(SIGNED, 'v1.1.0-elliptic-key'), '--key', publicKey]);
    expect(stdout).toContain('model signature verification failed:\nthe signature names another key');
    expect(code).toBe(1);
  });
});

describe("model_signing's command line", () => {
  it('takes its method word and flag names: key MODEL --public-key, sigstore MODEL --identity_provider', async () => {
    const dir = model();
    const { privateKey, publicKey } = keyFiles();
    expect((await runCli(['sign-model', 'key', dir, '--private_key', privateKey])).code).toBe(0);
    const byKey = await runCli(['verify-model', 'key', dir, '--signature', join(dir, 'model.sig'), '--public-key', publicKey]);
    expect(byKey.stdout).toMatch(/^✅ .*model signature verified/);
    expect(byKey.code).toBe(0);
    const keyless = await runCli(['verify-model', 'sigstore', join(SIGNED, 'v1.1.0-sigstore'), '--identity', 'stefanb@us.ibm.com', '--identity_provider=https://sigstore.verify.ibm.com/oauth2', '--offline']);
    expect(keyless.code).toBe(0);
    const wrong = await runCli(['verify-model', 'key', dir, '--public-key', privateKey.replace('key.pem', 'missing.pub')]);
    expect(wrong.code).toBe(2);
    // Named as typed: --public-key, never --key, which the user did not write.
    expect(wrong.stderr).toMatch(/^kernelseal verify-model: --public-key \S+missing\.pub: cannot read/);
    // The method word must fit the flags: sigstore with a key, or key without one, is a usage error.
    const mismatched = await runCli(['sign-model', 'sigstore', dir, '--private-key', privateKey]);
    expect(mismatched.code).toBe(2);
    expect(mismatched.stderr).toContain("the method 'sigstore' needs no key or certificate");
    expect((await runCli(['verify-model', 'key', dir])).stderr).toContain("the method 'key' needs --key (--public-key)");
  });
});

describe('kernelseal sign-model', () => {
  it('signs with a P-384 key into <model>/model.sig, and verify-model checks it', async () => {
    const dir = model();
    const { privateKey, publicKey } = keyFiles();
    const signed = await runCli(['sign-model', dir, '--key', privateKey, '--hash', 'blake2b', '--shard-size', '1000']);
    expect(signed.stdout).toMatch(/^✅ .*: signed 4 shards, 3.00 kB \(blake2b, shards\)\n {3}signature: .*model\.sig\n$/);
    expect(signed.code).toBe(0);
    const verified = await runCli(['verify-model', dir, '--key', publicKey]);
    expect(verified.stdout).toMatch(/^✅ .*model signature verified: 4 shards, 3.00 kB re-hashed \(blake2b, shards of 1.00 kB\)/);
    writeFileSync(join(dir, 'config.json'), '{"changed": true}');
    const changed = await runCli(['verify-model', dir, '--key', publicKey]);
    expect(changed.stdout).toContain('File hash mismatch for config.json: shards 0:2, 0:17 differ (2 bytes when signed, 17 now)');
    expect(changed.code).toBe(1);
  });

  it('signs keylessly and writes the signature where asked', async () => {
    const dir = model();
    const signature = join(tempDir(), 'release.sig');
    const token = identityToken({ email: 'ci@example.com', email_verified: true, iss: 'https://issuer.example.com', sub: 'ci@example.com' });
    const signed = await runCli(['sign-model', dir, '--identity-token', token, '--fulcio-url', sigstore.url, '--rekor-url', sigstore.url, '--signature', signature, '--json']);
    expect(JSON.parse(signed.stdout).results[0]).toMatchObject({ ok: true, status: 'signed', signature, resources: 2, serialization: { method: 'files', hashType: 'sha256' } });
    const verified = await runCli(['verify-model', dir, '--signature', signature, '--identity', 'ci@example.com', '--issuer', 'https://issuer.example.com', '--trusted-root', sigstore.trustedRootPath]);
    expect(verified.stdout).toMatch(/^✅ .*\n {3}signed by ci@example\.com, issuer https:\/\/issuer\.example\.com/);
    expect(JSON.parse(readFileSync(signature, 'utf8')).verificationMaterial.tlogEntries).toHaveLength(1);
  });

  it('usage errors exit 2 and name the option', async () => {
    const dir = model();
    for (const [args, message] of [
      [['--hash', 'md5'], /--hash must be one of sha256, blake2b, blake3/],
      [['--shard-size', '0'], /--shard-size must be a positive whole number/],
      [['--shard-size', '1.5'], /--shard-size must be a positive whole number/],
      [['--certificate', 'c.pem'], /--certificate needs its private key/],
    ] as const) {
      const { code, stderr } = await runCli(['sign-model', dir, ...args]);
      expect(stderr).toMatch(message);
      expect(code).toBe(2);
    }
  });

  it('a key it cannot sign with fails with the reason and writes nothing (exit 1)', async () => {
    const dir = model();
    const keyPath = join(tempDir(), 'ed25519.pem');
    writeFileSync(keyPath, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const { code, stdout } = await runCli(['sign-model', dir, '--key', keyPath]);
    expect(stdout).toContain('not signed:\nunsupported key type ed25519: use ECDSA P-256, ECDSA P-384, ECDSA P-521');
    expect(code).toBe(1);
    expect(() => readFileSync(join(dir, 'model.sig'))).toThrow();
  });
});
