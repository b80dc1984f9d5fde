// What kernelseal signs, others verify: every bundle `sign`, `sign-blob`, `sign-model` and
// `attest` write is checked here by sigstore-js's own Verifier (@sigstore/verify), with the
// identity expected, not only by kernelseal's policy code; model signatures also against
// model_signing's serialization, the path the reference's golden payloads are reproduced on
// (model-golden.test.ts): the statement signed is byte for byte what model_signing writes.
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, githubActionsJobEnv, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir, writeTree } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

const REPO = 'my-org/relu-kernel';
const IDENTITY = `https://github.com/${REPO}/.github/workflows/build.yaml@refs/heads/main`;
const ISSUER = 'https://token.actions.githubusercontent.com';
const NO_AMBIENT = { SIGSTORE_ID_TOKEN: '', ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '', BUILDKITE: '' };
const sigstore = withMockSigstore();
let services: string[];
let verifier: Verifier;
beforeAll(() => {
  services = ['--identity-token', identityToken(githubActionsClaims(REPO)), '--fulcio-url', sigstore.url, '--rekor-url', sigstore.url];
  verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(sigstore.trustedRoot)));
});

/** sigstore-js verifies the bundle over `artifact` (absent for DSSE) and holds the certificate to the identity. */
function sigstoreJsVerifies(bundleJSON: unknown, artifact?: Buffer, identity = IDENTITY) {
  const entity = toSignedEntity(bundleFromJSON(bundleJSON), artifact);
  return verifier.verify(entity, { subjectAlternativeName: identity, extensions: { issuer: ISSUER } });
}

describe("sigstore-js's Verifier accepts what kernelseal signs, with the expected identity, and only that", () => {
  it('sign: metadata.json.sigstore over the raw bytes of metadata.json', async () => {
    const dir = unsignedVariant();
    expect((await runCli(['sign', dir, ...services], { env: NO_AMBIENT })).code).toBe(0);
    const bundle = JSON.parse(readFileSync(join(dir, 'metadata.json.sigstore'), 'utf8'));
    const metadata = readFileSync(join(dir, 'metadata.json'));
    expect(sigstoreJsVerifies(bundle, metadata).identity?.subjectAlternativeName).toBe(IDENTITY);
    expect(() => sigstoreJsVerifies(bundle, metadata, 'https://github.com/evil/x/.github/workflows/build.yaml@refs/heads/main')).toThrow(/identity/i);
    expect(() => sigstoreJsVerifies(bundle, Buffer.concat([metadata, Buffer.from(' ')]))).toThrow();
  });

  it('sign-blob: <file>.sigstore.json over the file', async () => {
    const file = join(tempDir(), 'relu-0.1.0-py3-none-any.whl');
    writeFileSync(file, 'a wheel');
    expect((await runCli(['sign-blob', file, ...services], { env: NO_AMBIENT })).code).toBe(0);
    const bundle = JSON.parse(readFileSync(`${file}.sigstore.json`, 'utf8'));
    expect(sigstoreJsVerifies(bundle, readFileSync(file)).identity?.subjectAlternativeName).toBe(IDENTITY);
    expect(() => sigstoreJsVerifies(bundle, Buffer.from('another wheel'))).toThrow();
  });

  it('sign --provenance and attest: DSSE bundles of in-toto statements', async () => {
    const env = { ...NO_AMBIENT, ...githubActionsJobEnv(REPO, 'build.yaml', 'refs/heads/main', 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678') };
    const dir = unsignedVariant();
    expect((await runCli(['sign', dir, '--provenance', ...services], { env })).code).toBe(0);
    expect(sigstoreJsVerifies(JSON.parse(readFileSync(`${dir}.provenance.sigstore.json`, 'utf8'))).identity?.subjectAlternativeName).toBe(IDENTITY);
    const file = join(tempDir(), 'pkg.tar.gz');
    writeFileSync(file, 'a tarball');
    expect((await runCli(['attest', file, ...services], { env })).code).toBe(0);
    expect(sigstoreJsVerifies(JSON.parse(readFileSync(`${file}.intoto.sigstore.json`, 'utf8'))).identity?.subjectAlternativeName).toBe(IDENTITY);
  });

  it("sign-model: model.sig, whose statement is model_signing's own serialization of the manifest", async () => {
    const model = writeTree(join(tempDir(), 'model'), { 'config.json': '{"a": 1}', 'weights/part-0.bin': 'weights 0', 'weights/part-1.bin': 'weights 1' });
    expect((await runCli(['sign-model', model, '--shard-size', '4', ...services], { env: NO_AMBIENT })).code).toBe(0);
    const bundle = JSON.parse(readFileSync(join(model, 'model.sig'), 'utf8'));
    expect(sigstoreJsVerifies(bundle).identity?.subjectAlternativeName).toBe(IDENTITY);
    // The golden path: parsing the signed statement and serializing it as model_signing does gives
    // back the very bytes signed (a statement in any other form would differ here).
    const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    expect(ks.statementPayload(ks.parseStatement(payload)).equals(payload)).toBe(true);
    expect(payload.toString('utf8')).toMatch(/^\{\n {2}"_type": "https:\/\/in-toto\.io\/Statement\/v1",\n/);
  });
});
