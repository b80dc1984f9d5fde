// The rule for errors (docs/architecture.md, "Errors"): a verdict about the user's files is a
// result; a caller's mistake, a broken piece of code the caller passed in (a backend, a policy)
// or a bug is an exception, in every product, never a verdict about the files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken, startMockSigstore, type MockSigstore } from './helpers/mock-sigstore.ts';
import { pseudoRandomBytes, tempDir, writeTree } from './helpers/fs.js';
import { DIST, ROOT } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
type Policy = import('../dist/index.js').Policy;
type DigestBackend = import('../dist/index.js').DigestBackend;

const REPO = 'my-org/relu-kernel';
let sigstore: MockSigstore;
let trustedRoot: ReturnType<typeof ks.pinnedTrustedRoot>;
beforeAll(async () => {
  sigstore = await startMockSigstore();
  trustedRoot = ks.parseTrustedRoot(sigstore.trustedRoot, 'mock');
});
afterAll(() => sigstore.close());

/** A policy whose code is broken: it throws instead of answering. */
const brokenPolicy: Policy = {
  description: 'a broken policy',
  pinsIssuer: true,
  check() {
    throw new TypeError('broken policy: cannot read properties of undefined');
  },
};

/** A backend whose code is broken: every call throws a TypeError. */
const broken = (): never => {
  throw new TypeError('broken backend: hashFiles is not a function');
};
const brokenBackend: DigestBackend = { name: 'pure', details: 'broken', hashVariant: broken, hashFile: broken, hashFiles: broken };

async function signedVariant(): Promise<string> {
  const dir = unsignedVariant();
  const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
  await ks.signVariant(dir, { signer });
  return dir;
}

describe('an internal error is never a verdict about the user files', () => {
  it('kernels: verifyVariant rethrows a broken backend and a broken policy; a good variant still verifies', async () => {
    const dir = await signedVariant();
    const policy = ks.githubWorkflowPolicy({ repository: REPO });
    expect((await ks.verifyVariant(dir, { policy, trustedRoot })).status).toBe('verified');
    await expect(ks.verifyVariant(dir, { policy, trustedRoot, backend: brokenBackend })).rejects.toThrow(TypeError);
    await expect(ks.verifyVariant(dir, { policy: brokenPolicy, trustedRoot })).rejects.toThrow('broken policy');
    await expect(ks.verifyVariant(dir, { trustedRoot } as never)).rejects.toThrow(TypeError); // no trust anchor
  });

  it('kernels: verifyAndCopyVariant rethrows a broken policy and leaves no copy', async () => {
    const dir = await signedVariant();
    const into = tempDir();
    await expect(ks.verifyAndCopyVariant(dir, { policy: brokenPolicy, trustedRoot, into })).rejects.toThrow('broken policy');
    expect(readdirSync(into)).toEqual([]);
  });

  it('models: verifyModel rethrows a broken backend and a missing trust anchor', async () => {
    const dir = writeTree(tempDir('kernelseal-model-'), { 'model.safetensors': pseudoRandomBytes(5000, 3), 'config.json': '{}' });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = { privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
    await ks.signModel(dir, { signer: { method: 'key', privateKey: pem.privateKey } });
    expect((await ks.verifyModel(dir, { key: pem.publicKey })).status).toBe('verified');
    await expect(ks.verifyModel(dir, { key: pem.publicKey, backend: brokenBackend })).rejects.toThrow('broken backend');
    // Before, "no trust anchor" came back as a verdict (signature-invalid) about the model.
    await expect(ks.verifyModel(dir, {} as never)).rejects.toThrow(TypeError);
  });

  it('attestations: verifyAttestation rethrows a broken policy instead of listing it as a failure', async () => {
    const fixture = (...parts: string[]) => join(ROOT, '__test__', 'fixtures', 'attestations', ...parts);
    const options = {
      artifact: { bytes: readFileSync(fixture('npm-sigstore-2.3.1', 'sigstore-2.3.1.tgz')) },
      bundles: [fixture('npm-sigstore-2.3.1', 'sigstore-2.3.1.attestations.json')],
      trustedRoot: await ks.readTrustedRoot(fixture('trust', 'public-good-trusted_root.json')),
      npmKeys: await ks.readNpmKeys(fixture('trust', 'npm-registry-keys.json')),
    };
    expect((await ks.verifyAttestation({ ...options, policy: ks.githubAttestationPolicy({ repo: 'sigstore/sigstore-js' }) })).ok).toBe(true);
    await expect(ks.verifyAttestation({ ...options, policy: brokenPolicy })).rejects.toThrow('broken policy');
  });
});
