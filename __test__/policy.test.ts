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

describe('a policy on a shared issuer pins the signer', () => {
  const GOOGLE = 'https://accounts.google.com';
  const REFUSED = /^the policy does not pin the signer on (.+), where anyone can sign/;

  it.each([
    ['the issuer and provenance fields only (the signer writes them)', { issuer: GHA, predicate: { workflowRepository: 'https://github.com/my-org/x' } }, 'GitHub Actions'],
    ['the issuer and a ref', { issuer: GHA, extensions: { [OID.sourceRepositoryRef]: 'refs/heads/main' } }, 'GitHub Actions'],
    ['an identity regexp that matches anything', { issuer: GHA, identity: { regexp: '.*' } }, 'GitHub Actions'],
    ['an identity regexp that fixes only the host', { issuer: GHA, identity: { regexp: 'https://github\\.com/.*' } }, 'GitHub Actions'],
    ['an owner without its slash (my-org-evil matches)', { issuer: GHA, identity: { regexp: 'https://github\\.com/my-org.*' } }, 'GitHub Actions'],
    ['an optional character in the owner', { issuer: GHA, identity: { regexp: 'https://github\\.com/my-orgs?/.*' } }, 'GitHub Actions'],
    ['an alternation with an open branch', { issuer: GHA, identity: { regexp: 'https://github\\.com/my-org/.*|.*' } }, 'GitHub Actions'],
    ['a source repository regexp without an owner', { issuer: GHA, extensions: { [OID.sourceRepositoryURI]: { regexp: 'https://github\\.com/.*' } } }, 'GitHub Actions'],
    ['an email regexp without a domain', { issuer: GOOGLE, identity: { regexp: '.*@.*' } }, 'Google accounts'],
    ['GitLab and a ref', { issuer: 'https://gitlab.com', extensions: { [OID.sourceRepositoryRef]: 'refs/heads/main' } }, 'GitLab (gitlab.com)'],
    ['CircleCI, fixing the API path but not the project', { issuer: 'https://oidc.circleci.com', identity: { regexp: 'https://circleci\\.com/api/v2/projects/.*' } }, 'CircleCI'],
    ['an issuer regexp that takes every issuer', { issuer: { regexp: '.*' }, predicate: { builderId: 'x' } }, 'GitHub Actions, GitLab (gitlab.com)'],
    ['one open branch among pinned ones', { anyOf: [{ builtin: 'kernels-community' }, { issuer: GOOGLE, extensions: { [OID.sourceRepositoryRef]: 'refs/heads/main' } }] }, 'Google accounts'],
  ])('refuses %s, naming the issuer', (_name, json, issuers) => {
    let message = '';
    try {
      ks.parsePolicy(json);
    } catch (error) {
      expect(error).toBeInstanceOf(ks.PolicyError);
      message = (error as Error).message;
    }
    expect(message).toMatch(REFUSED);
    expect(REFUSED.exec(message)![1]).toMatch(new RegExp(`^${issuers.replace(/[()]/g, '\\$&')}`));
    expect(message).toContain('name it by an identity (exact, or a regexp that fixes its owner');
  });

  it.each([
    ['an owner regexp', { issuer: GHA, identity: { regexp: 'https://github\\.com/my-org/.*' } }],
    ['an exact identity', { issuer: GHA, identity: 'https://github.com/my-org/x/.github/workflows/a.yml@refs/heads/main' }],
    ['an email domain', { issuer: GOOGLE, identity: { regexp: '.*@example\\.com' } }],
    ['an email address', { issuer: GOOGLE, identity: { oneOf: ['a@example.com', 'b@example.org'] } }],
    ['a source repository and provenance fields', { issuer: GHA, extensions: { [OID.sourceRepositoryURI]: 'https://github.com/my-org/x' }, predicate: { builderId: 'y' } }],
    ['a repository owner', { issuer: GHA, extensions: { [OID.sourceRepositoryOwnerURI]: 'https://github.com/my-org' } }],
    ['a github repository', { github: { repository: 'my-org/x' } }],
    ['the identity in another member of an allOf', { allOf: [{ issuer: GHA }, { anyOf: [{ identity: 'a@example.com' }, { identity: { regexp: 'https://github\\.com/b/.*' } }] }] }],
    ['an alternation whose branches each fix the owner', { issuer: GHA, identity: { regexp: 'https://github\\.com/a/x|https://github\\.com/a/y' } }],
    ["an organisation's own issuer, which vouches only for its members", { issuer: 'https://keycloak.example.com/realms/ci', identity: { regexp: '.*' } }],
  ])('accepts %s', (_name, json) => {
    expect(ks.parsePolicy(json).unpinnedIssuers).toEqual([]);
  });

  it('the policies kernelseal names pin their signer', () => {
    for (const policy of [ks.kernelsCommunityPolicy, ks.githubReleasesPolicy, ks.githubWorkflowPolicy({ repository: 'a/b' }), ks.githubAttestationPolicy({ owner: 'a' })!]) {
      expect(policy.unpinnedIssuers, policy.description).toEqual([]);
    }
  });

  it("reads a regexp's literal ends conservatively: every string it matches starts and ends with them", async () => {
    const { literalEnds } = (await import(internal('trust/string-match.js'))) as typeof import('../dist/trust/string-match.js');
    // Every pattern of up to 3 of these pieces, against every string of up to 4 of 'a', 'b', '.', '1'.
    const pieces = ['a', 'b', '\\.', '.', 'a?', 'b*', 'a+', '(a|b)', '[ab]', '|', 'a{2}', '\\d', '^', '$', '\\x61', '(?:a)'];
    const alphabet = ['a', 'b', '.', '1'];
    const strings = [''];
    for (let length = 1, last = ['']; length <= 4; length++) {
      last = last.flatMap((s) => alphabet.map((c) => s + c));
      strings.push(...last);
    }
    let checked = 0;
    const patterns = pieces.flatMap((a) => ['', ...pieces].flatMap((b) => ['', ...pieces].map((c) => a + b + c)));
    for (const pattern of patterns) {
      let regex: RegExp;
      try {
        regex = new RegExp(`^(?:${pattern})$`);
        new RegExp(pattern);
      } catch {
        continue;
      }
      const { prefix, suffix } = literalEnds(pattern);
      for (const s of strings.filter((value) => regex.test(value))) {
        expect(s.startsWith(prefix) && s.endsWith(suffix), `${pattern} matches ${JSON.stringify(s)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10_000);
    expect(literalEnds('https://github\\.com/my-org/.*')).toEqual({ prefix: 'https://github.com/my-org/', suffix: '' });
    expect(literalEnds('.*@example\\.com')).toEqual({ prefix: '', suffix: '@example.com' });
  });

  it('a case-insensitive pattern pins an owner or a domain as its lower-case spelling does, and no more', async () => {
    const { pinsSubject } = (await import(internal('trust/shared-issuers.js'))) as typeof import('../dist/trust/shared-issuers.js');
    const pins = (source: string, flags = '') => pinsSubject(ks.matching(source, flags));
    expect([pins('HTTPS://GITHUB\\.COM/MY-ORG/.*', 'i'), pins('.*@EXAMPLE\\.COM', 'i'), pins('https://github\\.com/my-org/.*')]).toEqual([true, true, true]);
    // Without `i` the upper-case spelling names no GitHub URL at all; with it, a prefix that stops
    // inside the owner (or before it) still pins nothing.
    expect([pins('HTTPS://GITHUB\\.COM/MY-ORG/.*'), pins('HTTPS://GITHUB\\.COM/MY-ORG.*', 'i'), pins('HTTPS://GITHUB\\.COM/.*', 'i')]).toEqual([false, false, false]);
    expect(ks.matching('HTTPS://GITHUB\\.COM/MY-ORG/.*', 'i').test('https://github.com/my-org/x')).toBe(true);
  });
});
