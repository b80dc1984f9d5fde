import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken, startMockSigstore } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir, writeTree } from './helpers/fs.js';
import { runCli } from './helpers/package.js';
import { KERNEL_METADATA, unsignedVariant } from './helpers/variant.js';

const REPO = 'my-org/relu-kernel';
const IDENTITY = `https://github.com/${REPO}/.github/workflows/build.yaml@refs/heads/main`;
const ISSUER = 'https://token.actions.githubusercontent.com';
const sigstore = withMockSigstore();
let services: string[];
let policyFile: string;
const NO_AMBIENT = { SIGSTORE_ID_TOKEN: '', ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '', BUILDKITE: '' };

beforeAll(() => {
  services = ['--fulcio-url', sigstore.url, '--rekor-url', sigstore.url];
  policyFile = join(tempDir(), 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ github: { repository: REPO, workflow: '.github/workflows/build.yaml', ref: 'refs/heads/main' } }));
});

const token = (claims = githubActionsClaims(REPO)) => identityToken(claims);
const verifyArgs = (dir: string) => ['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--policy', policyFile];
const snapshot = (dir: string) =>
  Object.fromEntries(
    (readdirSync(dir, { recursive: true }) as string[]).filter((name) => statSync(join(dir, name)).isFile()).map((name) => [name, readFileSync(join(dir, name)).toString('base64')]),
  );
/** Asserts on the output first, so that a failure shows the reason. */
async function expectVerified(dir: string) {
  const { code, stdout, stderr } = await runCli(verifyArgs(dir));
  expect(stderr + stdout).toMatch(/^✅ /);
  expect(code).toBe(0);
}
const pem = (key: { export(o: object): string | Buffer }, type: 'pkcs8' | 'spki') => key.export({ format: 'pem', type }).toString();

describe('kernelseal sign, keyless', () => {
  it('signs a variant with a real .cubin, and verify trusts it with a workflow policy (Rekor v1)', async () => {
    const dir = unsignedVariant();
    const signed = await runCli(['sign', dir, '--identity-token', token(), ...services]);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(new RegExp(`^✅ ${dir}: signed the sha256 digest of 6 files\\n   signed by ${IDENTITY.replace(/\./g, '\\.')}, issuer .*, log index \\d+\\n   bundle: ${join(dir, 'metadata.json.sigstore')}\\n$`));
    const metadata = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    expect(Object.keys(metadata.digest.files)).toContain('kernels/relu_sm80.cubin');
    expect(JSON.parse(readFileSync(join(dir, 'metadata.json.sigstore'), 'utf8')).mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');

    const verified = await runCli(verifyArgs(dir));
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`✅ ${dir}: kernel metadata is correctly signed`);

    const otherPolicy = join(tempDir(), 'other.json');
    writeFileSync(otherPolicy, JSON.stringify({ github: { repository: 'huggingface/kernels-community' } }));
    const refused = await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--policy', otherPolicy]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`source repository URI (1.3.6.1.4.1.57264.1.12) is "https://github.com/${REPO}", expected "https://github.com/huggingface/kernels-community"`);
  });

  it('takes its services from a signing config: Rekor v1 by default, Rekor v2 and the TSA only with --rekor-version 2; SIGSTORE_ID_TOKEN', async () => {
    const config = join(tempDir(), 'signing_config.json');
    const service = (url: string, majorApiVersion: number) => ({ url, majorApiVersion, validFor: { start: '2020-01-01T00:00:00Z' }, operator: 'mock' });
    writeFileSync(
      config,
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
        caUrls: [service(sigstore.url, 1)],
        rekorTlogUrls: [service(sigstore.url, 2), service(sigstore.url, 1)],
        tsaUrls: [service(sigstore.tsaURL, 1)],
        rekorTlogConfig: { selector: 'ANY' },
        tsaConfig: { selector: 'ANY' },
      }),
    );
    // The config lists v2 first; v2 is opt-in all the same.
    const v1 = unsignedVariant();
    expect((await runCli(['sign', v1, '--signing-config', config], { env: { ...NO_AMBIENT, SIGSTORE_ID_TOKEN: token() } })).code).toBe(0);
    const v1Bundle = JSON.parse(readFileSync(join(v1, 'metadata.json.sigstore'), 'utf8'));
    expect(v1Bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.1' });
    const dir = unsignedVariant();
    const signed = await runCli(['sign', dir, '--signing-config', config, '--rekor-version', '2', '--algorithm', 'sha512'], { env: { ...NO_AMBIENT, SIGSTORE_ID_TOKEN: token() } });
    expect(signed.code).toBe(0);
    const bundle = JSON.parse(readFileSync(join(dir, 'metadata.json.sigstore'), 'utf8'));
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    await expectVerified(dir);
  });

  it('takes the GitHub Actions ambient credentials (audience sigstore)', async () => {
    const audiences: string[] = [];
    const actions = createServer((req, res) => {
      audiences.push(new URL(req.url!, 'http://x').searchParams.get('audience') ?? '');
      expect(req.headers.authorization).toBe('Bearer request-token');
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ value: token() }));
    });
    await new Promise<void>((resolve) => actions.listen(0, '127.0.0.1', resolve));
    try {
      const dir = unsignedVariant();
      const env = { ...NO_AMBIENT, ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(actions.address() as { port: number }).port}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token' };
      const signed = await runCli(['sign', dir, ...services], { env });
      expect(signed.stdout).toContain('✅');
      expect(signed.code).toBe(0);
      expect(audiences).toEqual(['sigstore']);
      const verified = await runCli(verifyArgs(dir));
      expect(verified.stdout).toContain('✅');
    } finally {
      actions.close();
    }
  });

  it('signs every variant of a kernel directory, as cosign is run over build/*/metadata.json', async () => {
    const kernel = tempDir();
    const names = ['torch210-cxx11-cu128-x86_64-linux', 'torch29-cxx11-cu126-x86_64-linux'];
    for (const name of names) cpSync(unsignedVariant(), join(kernel, 'build', name), { recursive: true });
    const signed = await runCli(['sign', kernel, '--identity-token', token(), ...services, '--json']);
    expect(signed.code).toBe(0);
    const { results } = JSON.parse(signed.stdout);
    expect(results.map((r: { subject: string; ok: boolean; status: string }) => [r.subject, r.ok, r.status])).toEqual(names.map((n) => [join(kernel, 'build', n), true, 'signed']));
    const verified = await runCli(verifyArgs(kernel));
    expect(verified.code).toBe(0);
    expect(verified.stdout.match(/✅/g)).toHaveLength(2);
  });
});

describe('kernelseal sign refuses bad input and writes nothing', () => {
  const refused = async (args: string[], env: NodeJS.ProcessEnv, message: string | RegExp) => {
    const dir = unsignedVariant();
    const before = snapshot(dir);
    const { code, stdout } = await runCli(['sign', dir, ...args], { env: { ...NO_AMBIENT, ...env } });
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`^❌ ${dir}: not signed:\\n`));
    expect(stdout).toMatch(message);
    expect(snapshot(dir)).toEqual(before);
  };

  it('no identity token anywhere', () => refused(services, {}, /no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, or run in a CI with OIDC/));
  it('an expired token', () => refused(['--identity-token', token({ ...githubActionsClaims(REPO), exp: 1_700_000_000 }), ...services], {}, /the identity token expired at 2023-11-14T22:13:20.000Z/));
  it('a token without a subject', () => refused(['--identity-token', identityToken({ iss: ISSUER }), ...services], {}, /the identity token has no "sub" or "email" claim/));
  it('a token without an issuer', () => refused(['--identity-token', identityToken({ sub: 'x', iss: undefined }), ...services], {}, /the identity token has no "iss" \(issuer\) claim/));
  it('not a JWT', () => refused(['--identity-token', 'hello', ...services], {}, /not a JWT/));
  it('an unreachable Fulcio', () =>
    refused(['--identity-token', token(), '--fulcio-url', 'http://127.0.0.1:9', '--rekor-url', sigstore.url], {}, /signing failed \(http:\/\/127\.0\.0\.1:9\): .*ECONNREFUSED/));
  it('an unreachable Rekor', () =>
    refused(['--identity-token', token(), '--fulcio-url', sigstore.url, '--rekor-url', 'http://127.0.0.1:9'], {}, /witnessing the signature failed \(http:\/\/127\.0\.0\.1:9\)/));

  it('an RSA key, an encrypted key without its passphrase', async () => {
    const keys = tempDir();
    writeFileSync(join(keys, 'rsa.pem'), pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'pkcs8'));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    writeFileSync(join(keys, 'encrypted.pem'), ec.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString());
    await refused(['--key', join(keys, 'rsa.pem'), '--rekor-url', sigstore.url], {}, /unsupported key type rsa: use ECDSA P-256, ECDSA P-384$/m);
    await refused(['--key', join(keys, 'encrypted.pem'), '--rekor-url', sigstore.url], {}, /the key is encrypted: give its passphrase \(KERNELSEAL_KEY_PASSWORD\)/);
  });

  it('metadata verify would reject: every problem at once, before any hashing or signing', async () => {
    const dir = unsignedVariant();
    writeFileSync(join(dir, 'metadata.json'), '{"name":"k3"}');
    const before = snapshot(dir);
    // Services that cannot be reached: the refusal must come before any attempt to sign.
    const { code, stdout } = await runCli(['sign', dir, '--identity-token', token(), '--fulcio-url', 'http://127.0.0.1:9', '--rekor-url', 'http://127.0.0.1:9'], { env: NO_AMBIENT });
    expect(code).toBe(1);
    expect(stdout).toBe(
      `❌ ${dir}: not signed:\n${join(dir, 'metadata.json')}: refusing to sign metadata that verification would reject:\n` +
        '  backend must be an object\n  id must be a string (missing)\n  version must be an unsigned integer (missing)\n' +
        '  license must be a string (missing)\n  python-depends must be an array of strings (missing)\n',
    );
    expect(snapshot(dir)).toEqual(before);
    // Not JSON at all, and a name verify refuses: the same words as verify's.
    writeFileSync(join(dir, 'metadata.json'), '{"name": ');
    expect((await runCli(['sign', dir, '--identity-token', token(), ...services])).stdout).toContain('refusing to sign metadata that verification would reject:\n  not valid JSON');
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...KERNEL_METADATA, name: 'Not A Name', backend: { type: 'gpu' } }));
    expect((await runCli(['sign', dir, '--identity-token', token(), ...services])).stdout).toContain(
      '  name "Not A Name" does not match ^[a-z][-a-z0-9]*[a-z0-9]$\n  backend.type "gpu" is not one of',
    );
  });

  it('a directory that is not a variant', async () => {
    const dir = writeTree(tempDir(), { 'a.py': 'x' });
    const { code, stdout } = await runCli(['sign', dir, '--identity-token', token(), ...services]);
    expect(code).toBe(1);
    expect(stdout).toBe(`❌ ${dir}: not signed:\n${dir}: not a kernel variant (no metadata.json)\n`);
    expect(readdirSync(dir)).toEqual(['a.py']);
  });

  it.each([
    [['sign'], 'expected at least one variant directory'],
    [['sign', '.', '--algorithm', 'blake3'], '--algorithm must be sha256 or sha512'],
    [['sign', '.', '--certificate', 'c.pem'], '--certificate needs its private key: --key'],
    [['sign', '.', '--key', 'k.pem', '--identity-token', 't'], '--key signs without Fulcio'],
    [['sign', '.', '--rekor-version', '3'], '--rekor-version must be 1 or 2'],
    [['sign', '.', '--key', 'package.json'], '--key package.json: it holds no PEM private key'],
  ])('usage errors exit 2: %j', async (args, message) => {
    const { code, stderr } = await runCli(args as string[]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});

describe('managed keys and certificates', () => {
  it.each(['P-256', 'P-384'])('round trip with an ECDSA %s key; tampering is caught with the exact lines', async (namedCurve) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    const keys = tempDir();
    writeFileSync(join(keys, 'signing.pem'), pem(privateKey, 'pkcs8'));
    writeFileSync(join(keys, 'signing.pub'), pem(publicKey, 'spki'));
    const dir = unsignedVariant();
    expect((await runCli(['sign', dir, '--key', join(keys, 'signing.pem'), '--rekor-url', sigstore.url])).code).toBe(0);
    const verified = await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--key', join(keys, 'signing.pub')]);
    expect(verified.code).toBe(0);
    const keyId = createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex');
    expect(verified.stdout).toContain(`signed with the key sha256:${keyId}`);

    const original = readFileSync(join(dir, '_ops.py'));
    writeFileSync(join(dir, '_ops.py'), 'import os\n');
    const expected = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')).digest.files['_ops.py'];
    const tampered = await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--key', join(keys, 'signing.pub')]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toBe(
      `❌ ${dir}: kernel integrity check failed\nFile hash mismatch for _ops.py: expected: ${expected}, got: ${createHash('sha256').update('import os\n').digest('base64')}\n`,
    );
    expect(createHash('sha256').update(original).digest('base64')).toBe(expected);
  });

  it('round trip with a certificate of our own PKI', async () => {
    const pki = tempDir();
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=Kernel Release CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=release-bot');
    writeFileSync(join(pki, 'leaf.ext'), 'subjectAltName=email:release-bot@example.com\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n');
    ssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '7', '-extfile', 'leaf.ext');
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other.key', '-out', 'other-ca.pem', '-days', '30', '-subj', '/CN=Other CA');

    // The mock log stamps entries with the time it started: start one after the certificates
    // were issued, so that the signing time falls inside their validity.
    const log = await startMockSigstore();
    onTestFinished(() => log.close());
    const dir = unsignedVariant();
    const signed = await runCli(['sign', dir, '--key', join(pki, 'leaf.key'), '--certificate', join(pki, 'leaf.pem'), '--certificate-chain', join(pki, 'ca.pem'), '--rekor-url', log.url]);
    expect(signed.stdout).toContain('signed by release-bot@example.com');
    expect(signed.code).toBe(0);

    const trust = ['--trusted-root', log.trustedRootPath];
    const ok = await runCli(['verify', dir, ...trust, '--certificate-chain', join(pki, 'ca.pem'), '--certificate-identity', 'release-bot@example.com']);
    expect(ok.stderr + ok.stdout).toContain('✅');
    expect(ok.code).toBe(0);
    const wrongIdentity = await runCli(['verify', dir, ...trust, '--certificate-chain', join(pki, 'ca.pem'), '--certificate-identity', 'someone@example.com']);
    expect(wrongIdentity.stdout).toContain('identity is "release-bot@example.com", expected "someone@example.com"');
    const wrongCA = await runCli(['verify', dir, ...trust, '--certificate-chain', join(pki, 'other-ca.pem')]);
    expect(wrongCA.code).toBe(1);
    expect(wrongCA.stdout).toContain('the signing certificate CN=release-bot does not chain to a trusted CA certificate');
    // Not the key of the certificate: refused before anything is signed.
    const mismatch = await runCli(['sign', unsignedVariant(), '--key', join(pki, 'other.key'), '--certificate', join(pki, 'leaf.pem'), '--rekor-url', sigstore.url]);
    expect(mismatch.stdout).toContain('the private key does not belong to the certificate');
  });
});

describe('signing services that never answer', () => {
  it.each([
    ['Fulcio', (url: string) => ['--identity-token', token(), '--fulcio-url', url, '--rekor-url', sigstore.url]],
    ['Rekor', (url: string) => ['--identity-token', token(), '--fulcio-url', sigstore.url, '--rekor-url', url]],
  ])('%s accepting the connection and never answering: sign-blob fails in bounded time naming it, and writes nothing', async (service, flags) => {
    const sockets: import('node:net').Socket[] = [];
    const silent = (await import('node:net')).createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const dir = tempDir();
      const file = join(dir, 'artifact.bin');
      writeFileSync(file, 'bytes');
      const { code, stdout, stderr } = await runCli(['sign-blob', file, ...flags(url), '--timeout', '1s']);
      expect(code).toBe(1);
      expect(`${stdout}${stderr}`).toContain(`${service} (${url}) did not answer within 1 s (timed out)`);
      expect(readdirSync(dir)).toEqual(['artifact.bin']);
      expect(sockets.length).toBeGreaterThan(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe('kernelseal sign-blob', () => {
  it('signs any artifact into a bundle that verify-bundle checks, keyless and with a key', async () => {
    const dir = tempDir();
    const wheel = join(dir, 'relu-0.1.0-py3-none-any.whl');
    writeFileSync(wheel, Buffer.from('PK\x03\x04 a wheel'));
    const signed = await runCli(['sign-blob', wheel, '--identity-token', token(), ...services]);
    expect(signed.code).toBe(0);
    expect(signed.stdout).toContain(`bundle: ${wheel}.sigstore.json`);
    const check = (extra: string[], subject = wheel) =>
      runCli(['verify-bundle', '--bundle', `${wheel}.sigstore.json`, '--trusted-root', sigstore.trustedRootPath, ...extra, subject]);
    expect((await check(['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER])).code).toBe(0);
    const digest = `sha256:${createHash('sha256').update(readFileSync(wheel)).digest('hex')}`;
    expect((await check(['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER], digest)).code).toBe(0);
    const other = await check(['--certificate-identity', 'https://github.com/other/x', '--certificate-oidc-issuer', ISSUER]);
    expect(other.code).toBe(1);
    expect(other.stdout).toBe(`❌ ${wheel}: the signer is not trusted by the policy: identity is "${IDENTITY}", expected "https://github.com/other/x"\n`);
    // Without --bundle, verify-bundle looks where sign-blob wrote it (and needs it for a digest).
    const byDefault = await runCli(['verify-bundle', '--trusted-root', sigstore.trustedRootPath, '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, wheel]);
    expect(byDefault.code).toBe(0);
    const noBundle = await runCli(['verify-bundle', '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, digest]);
    expect(noBundle.code).toBe(2);
    expect(noBundle.stderr).toContain('--bundle is required for an artifact given by its digest');

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'k.pem'), pem(privateKey, 'pkcs8'));
    writeFileSync(join(dir, 'k.pub'), pem(publicKey, 'spki'));
    const onnx = join(dir, 'model.onnx');
    writeFileSync(onnx, Buffer.alloc(4096, 7));
    expect((await runCli(['sign-blob', onnx, '--bundle', join(dir, 'model.bundle'), '--key', join(dir, 'k.pem'), '--rekor-url', sigstore.url])).code).toBe(0);
    const byKey = await runCli(['verify-bundle', '--bundle', join(dir, 'model.bundle'), '--trusted-root', sigstore.trustedRootPath, '--key', join(dir, 'k.pub'), onnx]);
    expect(byKey.code).toBe(0);
  });
});
