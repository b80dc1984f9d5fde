// Signing without a transparency log (README: air-gapped signing): a key or an own PKI signs and
// nothing leaves the machine; verifying needs the explicit waiver, which only key and private-CA
// trust may give, and a log entry a bundle does carry is still checked.
import { describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { pseudoRandomBytes, tempDir, writeTree } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';
import { opensslCa } from './helpers/pki.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

const sigstore = withMockSigstore();

/** Requests the mock services (Fulcio, Rekor, TSA, all on sigstore.url) have served so far. */
const served = () => [...sigstore.requests.values()].reduce((a, b) => a + b, 0);

function keyFiles() {
  const dir = tempDir();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(join(dir, 'key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(dir, 'key.pub'), publicKey.export({ format: 'pem', type: 'spki' }));
  return { dir, key: join(dir, 'key.pem'), pub: join(dir, 'key.pub'), privateKey, publicKey };
}

const ok = (result: { code: number | null; stdout: string; stderr: string }) => {
  expect(result.stderr + result.stdout).toMatch(/^✅ /);
  expect(result.code).toBe(0);
};

describe('the CLI signs without a log and verifies with --insecure-ignore-tlog', () => {
  it('sign --tlog-upload=false asks no service; verify needs the flag and then trusts the key', async () => {
    const { key, pub } = keyFiles();
    const dir = unsignedVariant();
    const before = served();
    // Rekor is named, and still never asked.
    ok(await runCli(['sign', dir, '--key', key, '--tlog-upload=false', '--rekor-url', sigstore.url]));
    expect(served()).toBe(before);
    const bundle = JSON.parse(readFileSync(join(dir, 'metadata.json.sigstore'), 'utf8'));
    expect(bundle.verificationMaterial.tlogEntries ?? []).toEqual([]); // protobuf JSON leaves an empty list out

    const without = await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--key', pub]);
    expect(without.stdout).toContain('the signature has no transparency log entry');
    expect(without.stdout).toContain('--insecure-ignore-tlog');
    expect(without.code).toBe(1);
    ok(await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--key', pub, '--insecure-ignore-tlog']));
    // Air-gapped: the pinned root, no TUF refresh.
    ok(await runCli(['verify', dir, '--offline', '--key', pub, '--insecure-ignore-tlog']));
  });

  it('sign-blob --tlog-upload false (cosign spelling with a space), verify-bundle by file and by digest', async () => {
    const { key, pub } = keyFiles();
    const blob = join(tempDir(), 'relu.whl');
    writeFileSync(blob, pseudoRandomBytes(4000, 3));
    const before = served();
    ok(await runCli(['sign-blob', blob, '--key', key, '--tlog-upload', 'false', '--rekor-url', sigstore.url]));
    expect(served()).toBe(before);
    const check = (subject: string, ...extra: string[]) =>
      runCli(['verify-bundle', '--bundle', `${blob}.sigstore.json`, '--trusted-root', sigstore.trustedRootPath, '--key', pub, ...extra, subject]);
    const digest = `sha256:${createHash('sha256').update(readFileSync(blob)).digest('hex')}`;
    const without = await check(blob);
    expect(without.code).toBe(1);
    expect(without.stdout).toBe(`❌ ${blob}: the signature has no transparency log entry; if it was signed without one on purpose (--tlog-upload=false), verify it with --insecure-ignore-tlog (library: insecureIgnoreTlog: true)\n`);
    ok(await check(blob, '--insecure-ignore-tlog'));
    ok(await check(digest, '--insecure-ignore-tlog'));
  });

  it('--tlog-upload alone is true, as in cosign: before the operand or last; =true and a following true as well', async () => {
    const { key, pub } = keyFiles();
    const spellings = [
      (dir: string) => ['--tlog-upload', dir],
      (dir: string) => [dir, '--tlog-upload'],
      (dir: string) => [dir, '--tlog-upload', 'true'],
      (dir: string) => [dir, '--tlog-upload=true'],
    ];
    for (const spelling of spellings) {
      const dir = unsignedVariant();
      const logged = sigstore.requests.get('/api/v1/log/entries') ?? 0;
      ok(await runCli(['sign', '--key', key, '--rekor-url', sigstore.url, ...spelling(dir)]));
      expect(sigstore.requests.get('/api/v1/log/entries'), spelling('DIR').join(' ')).toBe(logged + 1);
      const bundle = JSON.parse(readFileSync(join(dir, 'metadata.json.sigstore'), 'utf8'));
      expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
      // Logged: verified with no waiver.
      ok(await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--key', pub]));
    }
  });

  it('a policy file can say so for a key, never for Fulcio identities', async () => {
    const { dir: keys, key } = keyFiles();
    const variant = unsignedVariant();
    ok(await runCli(['sign', variant, '--key', key, '--tlog-upload=false']));
    const trust = join(keys, 'trust.json');
    writeFileSync(trust, JSON.stringify({ key: 'key.pub', insecureIgnoreTlog: true })); // relative to the file
    ok(await runCli(['verify', variant, '--offline', '--policy', trust]));
    writeFileSync(trust, JSON.stringify({ key: 'key.pub' }));
    const unwaived = await runCli(['verify', variant, '--offline', '--policy', trust]);
    expect(unwaived.code).toBe(1);
    expect(unwaived.stdout).toContain('the signature has no transparency log entry; if it was signed without one on purpose (--tlog-upload=false), verify it with --insecure-ignore-tlog');

    writeFileSync(trust, JSON.stringify({ builtin: 'kernels-community', insecureIgnoreTlog: true }));
    const refused = await runCli(['verify', variant, '--offline', '--policy', trust]);
    expect(refused.stderr).toContain(`${trust}: "insecureIgnoreTlog" works only with "key" or "certificateChain"`);
    expect(refused.code).toBe(2);
  });

  it('an own PKI: sign, sign-blob and sign-model without a log; verify, verify-bundle and verify-model trust the chain with the flag', async () => {
    const { dir, file } = opensslCa();
    const pki = ['--key', file('leaf.key'), '--certificate', file('leaf.pem'), '--certificate-chain', file('chain.pem'), '--tlog-upload=false'];
    const trust = ['--offline', '--certificate-chain', file('chain.pem'), '--certificate-identity', 'release-bot@example.com'];
    const before = served();

    const variant = unsignedVariant();
    ok(await runCli(['sign', variant, ...pki, '--rekor-url', sigstore.url]));
    const unwaived = await runCli(['verify', variant, ...trust]);
    expect(unwaived.code).toBe(1);
    expect(unwaived.stdout).toContain('the signature has no transparency log entry; if it was signed without one on purpose (--tlog-upload=false), verify it with --insecure-ignore-tlog');
    ok(await runCli(['verify', variant, ...trust, '--insecure-ignore-tlog']));
    const other = await runCli(['verify', variant, '--offline', '--certificate-chain', file('chain.pem'), '--certificate-identity', 'someone@example.com', '--insecure-ignore-tlog']);
    expect(other.stdout).toContain('identity is "release-bot@example.com"');
    expect(other.code).toBe(1);

    const blob = join(dir, 'relu.whl');
    writeFileSync(blob, 'a wheel');
    ok(await runCli(['sign-blob', blob, ...pki]));
    ok(await runCli(['verify-bundle', '--bundle', `${blob}.sigstore.json`, ...trust, '--insecure-ignore-tlog', blob]));

    // Model signatures by key or own PKI are never logged (model_signing's format): the flag is accepted, and not needed.
    const model = writeTree(tempDir('kernelseal-model-'), { 'model.onnx': pseudoRandomBytes(3000, 7), 'config.json': '{}' });
    ok(await runCli(['sign-model', model, ...pki]));
    ok(await runCli(['verify-model', model, '--certificate-chain', file('chain.pem'), '--insecure-ignore-tlog']));
    ok(await runCli(['verify-model', model, '--certificate-chain', file('chain.pem')]));
    expect(served()).toBe(before);
  });

  it('refuses keyless signing without a log, and the flag with a policy or an identity (usage errors, nothing written)', async () => {
    const dir = unsignedVariant();
    const metadata = readFileSync(join(dir, 'metadata.json'));
    const keyless = await runCli(['sign', dir, '--identity-token', identityToken(githubActionsClaims('my-org/relu')), '--tlog-upload=false', '--fulcio-url', sigstore.url]);
    expect(keyless.stderr).toContain('--tlog-upload=false needs --key');
    expect(keyless.code).toBe(2);
    expect(readFileSync(join(dir, 'metadata.json'))).toEqual(metadata);
    expect(existsSync(join(dir, 'metadata.json.sigstore'))).toBe(false);
    // Values other than true and false are refused, even Go's other spellings of a boolean after the bare flag.
    for (const value of [['--tlog-upload=maybe'], ['--tlog-upload', 'False'], ['--tlog-upload', '0']]) {
      const refused = await runCli(['sign', dir, '--key', keyFiles().key, ...value]);
      expect(refused.stderr, value.join(' ')).toContain('--tlog-upload must be true or false');
      expect(refused.code).toBe(2);
    }

    for (const trust of [
      ['--policy', 'kernels-community'],
      ['--certificate-identity', 'a@example.com', '--certificate-oidc-issuer', 'https://accounts.google.com'],
      [], // verify's default policy
    ]) {
      const { code, stderr } = await runCli(['verify', dir, '--offline', ...trust, '--insecure-ignore-tlog']);
      expect(stderr).toContain('--insecure-ignore-tlog works only with --key or --certificate-chain');
      expect(code).toBe(2);
    }
  });
});

describe('the library', () => {
  const trustedRoot = () => ks.parseTrustedRoot(sigstore.trustedRoot, 'mock trusted root');
  const data = Buffer.from('an artifact');

  it('tlogUpload: false with a key asks nothing; verifyBundle needs insecureIgnoreTlog', async () => {
    const { privateKey, publicKey } = keyFiles();
    const before = served();
    const bundle = await ks.signBytes(data, { method: 'key', privateKey, tlogUpload: false, rekorURL: sigstore.url });
    expect(served()).toBe(before);
    expect(bundle.verificationMaterial.tlogEntries ?? []).toEqual([]); // protobuf JSON leaves an empty list out
    expect(() => ks.verifyBundle(bundle, { bytes: data }, trustedRoot(), { key: publicKey })).toThrow(/no transparency log entry.*insecureIgnoreTlog: true/);
    expect(ks.verifyBundle(bundle, { bytes: data }, trustedRoot(), { key: publicKey, insecureIgnoreTlog: true })).toMatchObject({ method: 'key' });
    expect(() => ks.verifyBundle(bundle, { bytes: Buffer.from('another') }, trustedRoot(), { key: publicKey, insecureIgnoreTlog: true })).toThrow(/does not match/);
    // The key's validity window still holds, now, when no time is verified.
    const future = { start: new Date(Date.now() + 3600_000) };
    expect(() => ks.verifyBundle(bundle, { bytes: data }, trustedRoot(), { key: publicKey, validFor: future, insecureIgnoreTlog: true })).toThrow(/not valid now/);
  });

  it('with the flag, a bundle that has a log entry is still verified fully', async () => {
    const { privateKey, publicKey } = keyFiles();
    const bundle = await ks.signBytes(data, { method: 'key', privateKey, rekorURL: sigstore.url });
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(ks.verifyBundle(bundle, { bytes: data }, trustedRoot(), { key: publicKey, insecureIgnoreTlog: true }).logIndex).toBeDefined();
    const json = bundleToJSON(bundle) as { verificationMaterial: { tlogEntries: Array<{ inclusionPromise: { signedEntryTimestamp: string } }> } };
    const set = Buffer.from(json.verificationMaterial.tlogEntries[0]!.inclusionPromise.signedEntryTimestamp, 'base64');
    set[set.length - 1] ^= 1;
    json.verificationMaterial.tlogEntries[0]!.inclusionPromise.signedEntryTimestamp = set.toString('base64');
    let thrown: unknown;
    try {
      ks.verifyBundle(bundleFromJSON(json), { bytes: data }, trustedRoot(), { key: publicKey, insecureIgnoreTlog: true });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ks.SignatureVerificationError);
    expect(thrown).toMatchObject({ code: 'TLOG_INCLUSION_PROMISE_ERROR', message: 'inclusion promise could not be verified' });
  });

  it('refuses keyless tlogUpload: false and insecureIgnoreTlog with a policy (TypeErrors), before any request', async () => {
    const before = served();
    const keyless = { method: 'keyless' as const, identityToken: identityToken(githubActionsClaims('my-org/relu')), fulcioURL: sigstore.url, rekorURL: sigstore.url, tlogUpload: false };
    await expect(ks.signBytes(data, keyless)).rejects.toThrow(TypeError);
    await expect(ks.signBytes(data, keyless)).rejects.toThrow(/a keyless \(Fulcio\) signature is worth nothing without its transparency log entry/);
    expect(served()).toBe(before);
    const policy = ks.githubWorkflowPolicy({ repository: 'my-org/relu' });
    const dir = unsignedVariant();
    await expect(ks.verifyVariant(dir, { policy, insecureIgnoreTlog: true })).rejects.toThrow(/insecureIgnoreTlog works only with a key or a private CA chain/);
  });

  it('a Fulcio certificate without its log entry is refused even through a CA chain with the flag', async () => {
    const token = identityToken(githubActionsClaims('my-org/relu'));
    const bundle = await ks.signBytes(data, { method: 'keyless', identityToken: token, fulcioURL: sigstore.url, rekorURL: sigstore.url });
    bundle.verificationMaterial.tlogEntries = [];
    const root = sigstore.trustedRoot as { certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }> };
    const fulcioCA = root.certificateAuthorities[0]!.certChain.certificates.map((c) => `-----BEGIN CERTIFICATE-----\n${c.rawBytes}\n-----END CERTIFICATE-----\n`).join('');
    expect(() => ks.verifyBundle(bundle, { bytes: data }, trustedRoot(), { certificateChain: fulcioCA, insecureIgnoreTlog: true })).toThrow(
      /a Fulcio certificate: --insecure-ignore-tlog works only with a key or a private CA/,
    );
  });
});
