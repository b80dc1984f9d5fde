import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DIST, internal, testdata } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const { FULCIO_OID: OID } = (await import(internal('trust/certificate-identity.js'))) as typeof import('../dist/trust/certificate-identity.js');

/** An identity as a verified certificate would give it (extensions already decoded). */
function identityOf(san: string | undefined, extensions: Record<string, string>, undecodable: Record<string, string> = {}) {
  return { subjectAlternativeName: san, extensions: new Map(Object.entries(extensions)), undecodable: new Map(Object.entries(undecodable)) };
}

const KC = 'https://github.com/huggingface/kernels-community';
const GHA = 'https://token.actions.githubusercontent.com';
function kernelsCommunityBuild(workflow = 'build', overrides: Record<string, string> = {}) {
  const signer = `${KC}/.github/workflows/${workflow}.yaml@refs/heads/main`;
  return identityOf(signer, {
    [OID.issuerV1]: GHA,
    [OID.issuer]: GHA,
    [OID.sourceRepositoryURI]: KC,
    [OID.buildSignerURI]: signer,
    ...overrides,
  });
}

describe('the kernels-community policy', () => {
  it.each(['build', 'build-mac', 'build-windows', 'sign-old-builds'])('trusts the %s workflow on main', (workflow) => {
    expect(ks.kernelsCommunityPolicy.check(kernelsCommunityBuild(workflow))).toBeUndefined();
  });

  it('refuses another workflow, another ref, another repository, another issuer', () => {
    const check = (id: ReturnType<typeof identityOf>) => ks.kernelsCommunityPolicy.check(id);
    expect(check(kernelsCommunityBuild('release'))).toMatch(/^build signer URI \(1\.3\.6\.1\.4\.1\.57264\.1\.9\) is ".*release.yaml@refs\/heads\/main", expected one of/);
    expect(check(kernelsCommunityBuild('build', { [OID.buildSignerURI]: `${KC}/.github/workflows/build.yaml@refs/heads/dev` }))).toMatch(/build signer URI/);
    expect(check(kernelsCommunityBuild('build', { [OID.sourceRepositoryURI]: 'https://github.com/evil/kernels-community' }))).toBe(
      `source repository URI (1.3.6.1.4.1.57264.1.12) is "https://github.com/evil/kernels-community", expected "${KC}"`,
    );
    expect(check(kernelsCommunityBuild('build', { [OID.issuer]: 'https://gitlab.com' }))).toBe(`issuer is "https://gitlab.com", expected "${GHA}"`);
  });

  it('checks the legacy issuer (.1) too when both are present', () => {
    expect(ks.kernelsCommunityPolicy.check(kernelsCommunityBuild('build', { [OID.issuerV1]: 'https://evil.example' }))).toBe(
      `issuer is "https://evil.example", expected "${GHA}"`,
    );
  });

  it('refuses a certificate without an issuer or with an undecodable one', () => {
    const noIssuer = kernelsCommunityBuild();
    (noIssuer.extensions as Map<string, string>).delete(OID.issuer);
    (noIssuer.extensions as Map<string, string>).delete(OID.issuerV1);
    expect(ks.kernelsCommunityPolicy.check(noIssuer)).toBe('the certificate names no OIDC issuer');
    const raw = identityOf('x', { [OID.issuerV1]: GHA }, { [OID.issuer]: 'not a DER UTF8String' });
    expect(ks.issuerPolicy(ks.exactly(GHA)).check(raw)).toMatch(/issuer \(1\.3\.6\.1\.4\.1\.57264\.1\.8\) cannot be decoded: not a DER UTF8String/);
  });
});

describe('identity policies', () => {
  const id = identityOf('https://github.com/org/repo/.github/workflows/build.yaml@refs/heads/main', { [OID.issuer]: GHA });

  it('match exactly', () => {
    expect(ks.identityPolicy(ks.exactly('https://github.com/org/repo/.github/workflows/build.yaml@refs/heads/main'), ks.exactly(GHA)).check(id)).toBeUndefined();
    expect(ks.identityPolicy(ks.exactly('https://github.com/org/repo'), ks.exactly(GHA)).check(id)).toMatch(/^identity is ".*", expected "https:\/\/github.com\/org\/repo"$/);
  });

  it('rejects an identity that only matches unanchored', () => {
    for (const pattern of ['org/repo', 'https://github.com/org/repo', '.github/workflows/build.yaml@refs/heads/main']) {
      expect(ks.identityPolicy(ks.matching(pattern), ks.exactly(GHA)).check(id)).toMatch(/expected matching \^\(\?:/);
    }
    expect(ks.identityPolicy(ks.matching('https://github\\.com/org/repo/.*'), ks.exactly(GHA)).check(id)).toBeUndefined();
  });

  it('cannot be escaped by alternation: the anchors wrap the whole pattern', () => {
    const evil = identityOf('https://github.com/evil/x/.github/workflows/a.yaml@refs/heads/main', { [OID.issuer]: GHA });
    // Unwrapped, "^https://github.com/org/.*|evil$" would match the evil identity at "evil".
    expect(ks.identityPolicy(ks.matching('https://github\\.com/org/.*|evil'), ks.exactly(GHA)).check(evil)).toMatch(/expected matching/);
  });

  it('anchor the issuer regexp too', () => {
    const id2 = identityOf('me@example.com', { [OID.issuer]: 'https://evil.example/https://accounts.google.com' });
    expect(ks.identityPolicy(ks.exactly('me@example.com'), ks.matching('https://accounts\\.google\\.com')).check(id2)).toMatch(/^issuer is/);
  });
});

describe('policy files', () => {
  const wheelIdentity = () => {
    const bundle = ks.parseBundle(readFileSync(testdata('sigstore-bundles', 'production', 'bundle_v3_github.whl.sigstore')));
    const material = bundle.verificationMaterial.content as { x509CertificateChain: { certificates: Array<{ rawBytes: Buffer }> } };
    return material.x509CertificateChain.certificates[0]!.rawBytes;
  };

  it('decode extensions .8 and up from DER before comparing, and keep .1-.6 raw', async () => {
    const { X509Certificate } = (await import('node:module')).createRequire(import.meta.url)('@sigstore/core');
    const identity = ks.certificateIdentity(X509Certificate.parse(wheelIdentity()));
    expect(identity.extensions.get(OID.sourceRepositoryURI)).toBe('https://github.com/trailofbits/rfc8785.py');
    expect(identity.extensions.get(OID.githubWorkflowRepository)).toBe('trailofbits/rfc8785.py');
    expect(identity.extensions.get(OID.issuer)).toBe(GHA);
    expect(identity.extensions.get(OID.issuerV1)).toBe(GHA);
    expect(identity.undecodable.size).toBe(0);
  });

  it('read identity, issuer, extensions, github, builtin, anyOf and allOf', () => {
    const policy = ks.parsePolicy({
      anyOf: [
        { builtin: 'kernels-community' },
        { github: { repository: 'my-org/my-kernel', workflow: '.github/workflows/build.yaml', ref: 'refs/heads/main' } },
        { identity: { regexp: 'https://github\\.com/other/.*' }, issuer: GHA, extensions: { [OID.sourceRepositoryRef]: { oneOf: ['refs/heads/main', 'refs/heads/release'] } } },
      ],
    });
    expect(policy.check(kernelsCommunityBuild())).toBeUndefined();
    const mine = identityOf('https://github.com/my-org/my-kernel/.github/workflows/build.yaml@refs/heads/main', {
      [OID.issuer]: GHA,
      [OID.sourceRepositoryURI]: 'https://github.com/my-org/my-kernel',
      [OID.sourceRepositoryRef]: 'refs/heads/main',
      [OID.buildSignerURI]: 'https://github.com/my-org/my-kernel/.github/workflows/build.yaml@refs/heads/main',
    });
    expect(policy.check(mine)).toBeUndefined();
    const other = identityOf('https://github.com/other/x/.github/workflows/a.yaml@refs/heads/dev', { [OID.issuer]: GHA, [OID.sourceRepositoryRef]: 'refs/heads/dev' });
    expect(policy.check(other)).toMatch(/^no policy matched: \(1\) .*; \(2\) .*; \(3\) source repository ref \(1\.3\.6\.1\.4\.1\.57264\.1\.14\) is "refs\/heads\/dev"/);
  });

  it.each([
    ['an empty policy', {}, /an empty policy would trust anyone/],
    ['an identity without an issuer', { identity: 'me@example.com' }, /does not pin the OIDC issuer/],
    ['an anyOf with a branch that does not pin the issuer', { anyOf: [{ builtin: 'kernels-community' }, { identity: 'x' }] }, /does not pin the OIDC issuer/],
    ['an unknown key', { identity: 'x', issuer: 'y', subject: 'z' }, /unknown key "subject"/],
    ['an unknown builtin', { builtin: 'everyone' }, /unknown policy "everyone"/],
    ['an invalid regexp', { identity: { regexp: '(' }, issuer: 'y' }, /invalid regular expression/],
    ['a combinator with other keys', { anyOf: [{ builtin: 'kernels-community' }], issuer: 'x' }, /must stand alone/],
    ['an empty anyOf', { anyOf: [] }, /non-empty array/],
    ['a bad repository', { github: { repository: 'not-a-repo' } }, /owner\/name/],
    ['a workflow without a ref', { github: { repository: 'a/b', workflow: '.github/workflows/x.yml' } }, /needs its ref/],
    ['a match of the wrong type', { identity: 42, issuer: 'y' }, /must be a string/],
    ['not an object', ['kernels-community'], /must be an object/],
  ])('refuse %s', (_name, json, message) => {
    expect(() => ks.parsePolicy(json)).toThrow(message);
  });

  it('an allOf pins the issuer when one member does', () => {
    expect(() => ks.parsePolicy({ allOf: [{ identity: 'me@example.com' }, { issuer: 'https://accounts.google.com' }] })).not.toThrow();
  });
});
