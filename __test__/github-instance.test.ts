import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { DIST, ROOT, runCli, testdata } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

// GitHub's own Sigstore instance, as gh meets it, on real attestations (fixtures/attestations,
// whose NOTICE says whence): a private repository's build provenance (actions/attest-demo) and
// a release attestation (bdehamer/delme v6), both timestamped by GitHub's TSA, logged nowhere.

const A = testdata('attestations');
const WHEEL_DIR = join(A, 'gh-attest-demo-wheel-github-instance');
const WHEEL = join(WHEEL_DIR, 'github_provenance_demo-0.0.12-py3-none-any.whl');
const WHEEL_BUNDLE = join(WHEEL_DIR, 'github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl');
const RELEASE_BUNDLE = join(A, 'gh-release-attestation-delme-v6', 'github_release_bundle.json');
const RELEASE_ASSET = 'sha256:e15b593c6ab8d7725a3cc82226ef816cac6bf9c70eed383bd459295cc65f5ec3';
const RELEASE_COMMIT = 'c5e17a62e06a1d201570249c61fae531e9244e1b';
const PUBLIC_GOOD = join(A, 'trust', 'public-good-trusted_root.json');
const GITHUB = join(A, 'trust', 'github-trusted_root.json');
const dir = tempDir();

const attestation = (...args: string[]) => runCli(['verify-attestation', WHEEL, '--bundle', WHEEL_BUNDLE, '--repo', 'actions/attest-demo', ...args]);
const release = (...args: string[]) => runCli(['verify-release', 'v6', '-R', 'bdehamer/delme', '--bundle', RELEASE_BUNDLE, ...args]);

describe("GitHub's trusted root, shipped and chosen by the certificate's issuer", () => {
  it('the pinned root is the one gh attestation trusted-root gives for GitHub, and its TUF root signs itself', async () => {
    expect(readFileSync(join(ROOT, 'trust', 'github.trusted_root.json'))).toEqual(readFileSync(GITHUB));
    expect(ks.pinnedGitHubTrustedRoot().certificateAuthorities.length).toBeGreaterThan(0);
    expect(ks.pinnedGitHubTrustedRoot().tlogs).toEqual([]);
    // The chain of trust TUF starts from: 3 of its 8 root keys must sign it (tuf-js's own check).
    const { Metadata } = createRequire(import.meta.url)('@tufjs/models') as typeof import('@tufjs/models');
    const tufRoot = Metadata.fromJSON('root', JSON.parse(readFileSync(join(ROOT, 'trust', 'github.tuf-root.json'), 'utf8')));
    expect(() => tufRoot.verifyDelegate('root', tufRoot)).not.toThrow();
    const tampered = Metadata.fromJSON('root', JSON.parse(readFileSync(join(ROOT, 'trust', 'github.tuf-root.json'), 'utf8')));
    tampered.signed.version = 4;
    expect(() => tampered.verifyDelegate('root', tampered)).toThrow('root was signed by 0/3 keys');
  });

  it("a private repository's attestation verifies with no --trusted-root: GitHub's root is among the defaults", async () => {
    const { code, stdout } = await attestation('--offline', '--json');
    expect(code, stdout).toBe(0);
    expect(JSON.parse(stdout).results[0].verified[0].signer).toMatchObject({ identity: 'https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main', signedAt: '2024-04-22T17:33:26.000Z' });
  });

  it('against the public-good root alone it fails, and says why: not a bare "timestamp could not be verified"', async () => {
    const { code, stdout } = await attestation('--trusted-root', PUBLIC_GOOD, '--json');
    expect(code).toBe(1);
    const [failure] = JSON.parse(stdout).results[0].failures;
    expect(failure.code).toBe('TIMESTAMP_ERROR');
    expect(failure.reason).toBe(
      'timestamp could not be verified (the signing certificate was issued by "O=GitHub, Inc., CN=Fulcio Intermediate l2", which the trusted root does not hold: ' +
        "GitHub's own Sigstore instance signed it (private repositories, release attestations): verify it with GitHub's trusted root, which kernelseal uses unless --trusted-root names other roots (gh attestation trusted-root > roots.jsonl writes both, one a line))",
    );
  });

  it('reads the JSON Lines gh attestation trusted-root writes, one root a line, and picks the right one for each signature', async () => {
    const roots = join(dir, 'trusted_root.jsonl');
    writeFileSync(roots, `${JSON.stringify(JSON.parse(readFileSync(PUBLIC_GOOD, 'utf8')))}\n${JSON.stringify(JSON.parse(readFileSync(GITHUB, 'utf8')))}\n`);
    expect((await attestation('--trusted-root', roots)).code).toBe(0);
    // A public-good signature through the same file.
    const js = join(A, 'dsse-sigstore-js-2.1.0-bundle-v0.3');
    const publicGood = await runCli(['verify-attestation', join(js, 'sigstore-js-2.1.0.tgz'), '--bundle', join(js, 'sigstore-js-2.1.0-bundle.json'), '--repo', 'sigstore/sigstore-js', '--trusted-root', roots]);
    expect(publicGood.code, publicGood.stdout).toBe(0);
    // Neither root holds the CA: refused before sigstore-js runs, naming the issuer.
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, `${JSON.stringify(JSON.parse(readFileSync(join(A, 'trust', 'cli-cli-public-good-trusted_root.json'), 'utf8')))}\n${JSON.stringify(JSON.parse(readFileSync(PUBLIC_GOOD, 'utf8')))}\n`);
    const refused = await attestation('--trusted-root', other, '--json');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).results[0].failures[0]).toMatchObject({ code: 'CERTIFICATE_ERROR', reason: expect.stringMatching(/^the signing certificate was issued by "O=GitHub, Inc., CN=Fulcio Intermediate l2", in none of the 2 trusted roots given: GitHub's own Sigstore instance signed it/) });
  });

  it('a JSON Lines file with a line that is no trusted root is a usage error naming the line', async () => {
    const roots = join(dir, 'broken.jsonl');
    writeFileSync(roots, `${JSON.stringify(JSON.parse(readFileSync(GITHUB, 'utf8')))}\n{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": 1}\n`);
    const { code, stderr } = await attestation('--trusted-root', roots);
    expect(code).toBe(2);
    expect(stderr).toContain(`${roots}:2: tlogs must be an array`);
  });
});

describe('release attestations (gh release verify, verify-asset)', () => {
  it('verifies the release by tag and repository, lists every subject, and checks an asset by digest', async () => {
    const { code, stdout } = await release('--offline', '--commit', RELEASE_COMMIT, RELEASE_ASSET, '--json');
    expect(code, stdout).toBe(0);
    const [result] = JSON.parse(stdout).results;
    expect(result.release).toMatchObject({
      predicateType: 'https://in-toto.io/attestation/release/v0.1',
      repository: 'bdehamer/delme',
      tag: 'v6',
      commit: RELEASE_COMMIT,
      signer: { identity: 'https://dotcom.releases.github.com', signedAt: '2025-05-30T20:13:39.000Z' },
      subjects: [
        { uri: 'pkg:github/bdehamer/delme@v6', digest: { sha1: RELEASE_COMMIT } },
        { name: 'artifact.zip', digest: { sha256: RELEASE_ASSET.slice(7) } },
      ],
    });
    expect(result.release.signer.issuer).toBeUndefined();
    expect(result.assets).toEqual([{ name: RELEASE_ASSET, sha256: RELEASE_ASSET.slice(7), subject: 'artifact.zip', ok: true }]);
    const text = await release('--offline');
    expect(text.stdout).toContain('✅ release v6 of bdehamer/delme verified\n');
    expect(text.stdout).toContain(`     artifact.zip  ${RELEASE_ASSET}\n`);
  });

  it('refuses another tag, another repository, another commit, an asset it does not list, and a missing asset', async () => {
    const reasonOf = async (...args: string[]) => {
      const { code, stdout } = await runCli(['verify-release', ...args, '--bundle', RELEASE_BUNDLE, '--offline', '--json']);
      expect(code).toBe(1);
      const [result] = JSON.parse(stdout).results;
      return result.failures[0]?.reason ?? result.assets.find((a: { ok: boolean }) => !a.ok)?.reason;
    };
    expect(await reasonOf('v7', '-R', 'bdehamer/delme')).toBe('the attestation is of release "v6", not v7');
    expect(await reasonOf('v6', '-R', 'evil/delme')).toBe('the attestation is of a release of "bdehamer/delme", not evil/delme');
    expect(await reasonOf('v6', '-R', 'bdehamer/delme', '--commit', '0'.repeat(40))).toBe(`the release pkg:github/bdehamer/delme@v6 is attested at commit ${RELEASE_COMMIT}, not ${'0'.repeat(40)}`);
    const asset = join(dir, 'artifact.zip');
    writeFileSync(asset, 'not the attested bytes');
    expect(await reasonOf('v6', '-R', 'bdehamer/delme', asset)).toMatch(/^sha256:[0-9a-f]{64} is not among the 1 assets the release attestation lists$/);
    const empty = tempDir();
    expect(await reasonOf('v6', '-R', 'bdehamer/delme', '--all-assets', empty)).toBe('attested, but not among the files given');
  });

  it("GitHub's release service signs with no OIDC issuer: a policy naming its SAN needs none, and no other policy may go without", async () => {
    const attest = (...args: string[]) =>
      runCli(['verify-attestation', RELEASE_ASSET, '--bundle', RELEASE_BUNDLE, '--offline', '--predicate-type', 'https://in-toto.io/attestation/release/v0.1', ...args]);
    expect((await attest('--certificate-identity', 'https://dotcom.releases.github.com')).code).toBe(0);
    const policy = join(dir, 'releases.json');
    writeFileSync(policy, JSON.stringify({ identity: 'https://dotcom.releases.github.com' }));
    expect((await attest('--policy', policy)).code).toBe(0);
    expect((await runCli(['verify-bundle', '--offline', '--bundle', RELEASE_BUNDLE, '--certificate-identity', 'https://dotcom.releases.github.com', RELEASE_ASSET])).code).toBe(0);
    // A pattern, or any other SAN, still needs its issuer.
    for (const identity of [{ regexp: 'https://dotcom\\.releases\\.github\\.com' }, 'https://github.com/org/repo/.github/workflows/x.yml@refs/heads/main', 'https://dotcom.releases.github.com.evil.example']) {
      writeFileSync(policy, JSON.stringify({ identity }));
      const refused = await attest('--policy', policy);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/does not pin the OIDC issuer/);
    }
    // verify-attestation's flags default the issuer to GitHub Actions' (as gh does): a pattern gets no exemption.
    // (And on GitHub Actions, anyone's SAN matches `.*`: refused before anything is verified.)
    const pattern = await attest('--certificate-identity-regexp', '.*', '--json');
    expect(pattern.code).toBe(2);
    expect(pattern.stderr).toMatch(/the policy does not pin the signer on GitHub Actions, where anyone can sign/);
    const owner = await attest('--certificate-identity-regexp', 'https://github\\.com/bdehamer/.*', '--json');
    expect(owner.code).toBe(1);
    expect(JSON.parse(owner.stdout).results[0].failures[0].reason).toBe('the signer is not trusted by the policy: the certificate names no OIDC issuer');
    expect((await attest('--certificate-identity', 'https://dotcom.releases.github.com', '--repo', 'bdehamer/delme')).code).toBe(2);
  });

  it('the service policy refuses a certificate that names an issuer: an OIDC login cannot pass for the release service', () => {
    const policy = ks.parsePolicy({ identity: 'https://dotcom.releases.github.com' });
    const identity = (extensions: Record<string, string>) => ({ subjectAlternativeName: 'https://dotcom.releases.github.com', extensions: new Map(Object.entries(extensions)), undecodable: new Map() });
    expect(policy.check(identity({}))).toBeUndefined();
    expect(policy.check(identity({ '1.3.6.1.4.1.57264.1.8': 'https://accounts.example' }))).toBe('the certificate names an OIDC issuer (issuer (1.3.6.1.4.1.57264.1.8)), expected none');
  });
});

describe('Fulcio extensions by name, up to .23 (deployment environment)', () => {
  const identity = (extensions: Record<string, string>) => ({ subjectAlternativeName: 'x', extensions: new Map(Object.entries(extensions)), undecodable: new Map() });
  const GHA = { '1.3.6.1.4.1.57264.1.8': 'https://token.actions.githubusercontent.com' };

  it('policy files name any extension, by name or OID; an unknown name is an error', () => {
    // On GitHub Actions a policy also names whose builds it trusts (here the repository owner, by name).
    const extensions = { sourceRepositoryOwnerURI: 'https://github.com/org', deploymentEnvironment: 'production', '1.3.6.1.4.1.57264.1.22': 'private' };
    const policy = ks.parsePolicy({ issuer: GHA['1.3.6.1.4.1.57264.1.8'], extensions });
    const org = { ...GHA, '1.3.6.1.4.1.57264.1.16': 'https://github.com/org' };
    expect(policy.check(identity({ ...org, '1.3.6.1.4.1.57264.1.23': 'production', '1.3.6.1.4.1.57264.1.22': 'private' }))).toBeUndefined();
    expect(policy.check(identity({ ...org, '1.3.6.1.4.1.57264.1.23': 'staging', '1.3.6.1.4.1.57264.1.22': 'private' }))).toBe(
      'deployment environment (1.3.6.1.4.1.57264.1.23) is "staging", expected "production"',
    );
    expect(policy.check(identity({ ...org, '1.3.6.1.4.1.57264.1.22': 'private' }))).toBe('the certificate has no deployment environment (1.3.6.1.4.1.57264.1.23)');
    const { sourceRepositoryOwnerURI: _, ...anyone } = extensions;
    expect(() => ks.parsePolicy({ issuer: GHA['1.3.6.1.4.1.57264.1.8'], extensions: anyone })).toThrow(/^the policy does not pin the signer on GitHub Actions/);
    expect(() => ks.parsePolicy({ issuer: 'x', extensions: { deploymentEnviroment: 'production' } })).toThrow(/"deploymentEnviroment" is neither an OID nor a Fulcio extension's name \(issuerV1, .*deploymentEnvironment\)/);
  });

  it('--certificate-extension NAME=VALUE adds to the policy on the command line', async () => {
    const js = join(A, 'dsse-sigstore-js-2.1.0-bundle-v0.3');
    const run = (...extension: string[]) =>
      runCli(['verify-attestation', join(js, 'sigstore-js-2.1.0.tgz'), '--bundle', join(js, 'sigstore-js-2.1.0-bundle.json'), '--repo', 'sigstore/sigstore-js', '--trusted-root', PUBLIC_GOOD, '--json', ...extension]);
    expect((await run('--certificate-extension', 'buildTrigger=push', '--certificate-extension', 'runnerEnvironment=github-hosted')).code).toBe(0);
    const refused = await run('--certificate-extension', 'deploymentEnvironment=production');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).results[0].failures[0].reason).toContain('the certificate has no deployment environment (1.3.6.1.4.1.57264.1.23)');
    expect((await run('--certificate-extension', 'nonsense')).code).toBe(2);
  });
});
