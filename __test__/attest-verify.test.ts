import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { DIST, ROOT, runCli } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

// verifyAttestation on the real attestations, altered the ways an attacker would: each one
// must fail, naming the attestation and the reason, and never by skipping it.

const FIXTURES = join(ROOT, '__test__', 'fixtures', 'attestations');
const fixture = (...parts: string[]) => join(FIXTURES, ...parts);
const publicGood = await ks.readTrustedRoot(fixture('trust', 'public-good-trusted_root.json'));
const githubRoot = await ks.readTrustedRoot(fixture('trust', 'github-trusted_root.json'));
const npmKeys = await ks.readNpmKeys(fixture('trust', 'npm-registry-keys.json'));
const scratch = tempDir();

const SLSA_V1 = 'https://slsa.dev/provenance/v1';
const PYPI_PUBLISH = 'https://docs.pypi.org/attestations/publish/v1';
const repo = (name: string, more: Partial<import('../dist/index.js').GitHubAttestationPolicyOptions> = {}) => ks.githubAttestationPolicy({ repo: name, ...more });
const bytes = (...parts: string[]) => ({ bytes: readFileSync(fixture(...parts)) });

const NPM = 'npm-sigstore-2.3.1';
const npmTarball = bytes(NPM, 'sigstore-2.3.1.tgz');
const npmDocument = () => JSON.parse(readFileSync(fixture(NPM, 'sigstore-2.3.1.attestations.json'), 'utf8'));

function write(name: string, content: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const verifyNpm = (bundles: string[], more: Partial<import('../dist/index.js').VerifyAttestationOptions> = {}) =>
  ks.verifyAttestation({ artifact: npmTarball, bundles, trustedRoot: publicGood, policy: repo('sigstore/sigstore-js'), npmKeys, ...more });

describe('verifyAttestation', () => {
  it('verifies both npm attestations and reports who signed and how it was built', async () => {
    const result = await verifyNpm([fixture(NPM, 'sigstore-2.3.1.attestations.json')]);
    expect(result).toMatchObject({ ok: true, failures: [] });
    expect(result.verified.map((a) => [a.source.replace(FIXTURES, ''), a.trustedBy, a.predicateType])).toEqual([
      [`/${NPM}/sigstore-2.3.1.attestations.json#1`, 'npm-registry-key', ks.NPM_PUBLISH_PREDICATE],
      [`/${NPM}/sigstore-2.3.1.attestations.json#2`, 'policy', SLSA_V1],
    ]);
    expect(result.verified[0]!.registryKeyId).toBe('SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA');
    expect(result.verified[1]!.provenance).toEqual({
      builderId: 'https://github.com/actions/runner/github-hosted',
      buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
      workflowRepository: 'https://github.com/sigstore/sigstore-js',
      workflowRef: 'refs/heads/main',
      workflowPath: '.github/workflows/release.yml',
      sourceDigest: '46e7056ff9912ebfee5298d94024895a9fea76c0',
      invocationId: 'https://github.com/sigstore/sigstore-js/actions/runs/9116405766/attempts/1',
    });
  });

  it('fails the whole npm document when its provenance was tampered, listing the publish attestation that held', async () => {
    const dir = 'npm-sigstore-2.3.1-bad-provenance-signature_fail';
    const result = await verifyNpm([fixture(dir, 'sigstore-2.3.1-invalidsigprov.attestations.json')]);
    expect(result.ok).toBe(false);
    expect(result.verified.map((a) => a.source)).toEqual([fixture(dir, 'sigstore-2.3.1-invalidsigprov.attestations.json#1')]);
    expect(result.failures).toEqual([{ source: fixture(dir, 'sigstore-2.3.1-invalidsigprov.attestations.json#2'), code: 'TLOG_BODY_ERROR', reason: expect.stringMatching(/payload hash mismatch/) }]);
  });

  it('refuses a bundle with no certificate and no content when it is read, naming the file and line', async () => {
    const path = fixture('gh-attest-demo-missing-cert_fail', 'github_provenance_demo-0.0.12-py3-none-any-bundle-missing-cert.jsonl');
    const result = await ks.verifyAttestation({ artifact: { digest: Buffer.alloc(32), algorithm: 'sha256' }, bundles: [path], trustedRoot: githubRoot, policy: repo('actions/attest-demo') });
    expect(result.failures).toEqual([{ source: path, code: 'ATTESTATION_FILE_INVALID', reason: expect.stringMatching(/^.*missing-cert\.jsonl: invalid Sigstore bundle: .*content/) }]);
  });

  it('fails on a tampered signature before anything else', async () => {
    const result = await ks.verifyAttestation({
      artifact: { digest: Buffer.alloc(32), algorithm: 'sha256' },
      bundles: [fixture('dsse-invalid-signature_fail', 'sigstoreBundle-invalid-signature.json')],
      trustedRoot: publicGood,
      policy: ks.identityPolicy(ks.exactly('brian@dehamer.com'), ks.exactly('https://github.com/login/oauth')),
    });
    expect(result.failures[0]!.reason).toBe('tlog entry signature mismatch');
  });

  it('one bad line of a JSON Lines file fails it, although the other line verifies', async () => {
    const dir = 'gh-jsonl-two-bundles-sigstore-js-2.1.0';
    const [first, second] = readFileSync(fixture(dir, 'sigstore-js-2.1.0_with_2_bundles.jsonl'), 'utf8').trim().split('\n') as [string, string];
    const tampered = JSON.parse(second);
    const statement = JSON.parse(Buffer.from(tampered.dsseEnvelope.payload, 'base64').toString());
    statement.subject[0].digest.sha512 = statement.subject[0].digest.sha512.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
    tampered.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const path = write('two.jsonl', `${first}\n${JSON.stringify(tampered)}\n`);
    const result = await ks.verifyAttestation({ artifact: bytes(dir, 'sigstore-js-2.1.0.tgz'), bundles: [path], trustedRoot: publicGood, policy: repo('sigstore/sigstore-js') });
    expect(result.ok).toBe(false);
    expect(result.verified.map((a) => a.source)).toEqual([`${path}:1`]);
    // The edited statement is no longer what was signed: the log's record of it says so first.
    expect(result.failures).toEqual([{ source: `${path}:2`, code: 'TLOG_BODY_ERROR', reason: 'DSSE payload hash mismatch' }]);
  });

  it('refuses an npm entry whose listed predicate type is not the one signed', async () => {
    const document = npmDocument();
    document.attestations[1].predicateType = ks.NPM_PUBLISH_PREDICATE;
    const result = await verifyNpm([write('swapped.json', document)]);
    expect(result.failures).toEqual([{ source: expect.stringMatching(/#2$/), code: 'PREDICATE_TYPE_ERROR', reason: expect.stringMatching(/listed as .* but the signed statement says "https:\/\/slsa.dev\/provenance\/v1"/) }]);
  });

  it('trusts a registry key only while it was valid, and only keys for attestations', async () => {
    const expired = npmKeys.map((key) => ({ ...key, validFor: { start: key.validFor.start, end: new Date('2024-01-01T00:00:00Z') } }));
    const result = await verifyNpm([fixture(NPM, 'sigstore-2.3.1.publish.sigstore.json')], { npmKeys: expired, policy: undefined });
    expect(result.ok).toBe(false);
    expect(result.failures[0]!.reason).toBe('Public key is not valid for timestamp: 2024-05-16T17:12:06.000Z');
    // The same key for npm:signatures (package metadata) is not an attestation key.
    const keysDocument = JSON.parse(readFileSync(fixture('trust', 'npm-registry-keys.json'), 'utf8'));
    keysDocument.keys = keysDocument.keys.filter((k: { keyUsage: string; keyId: string }) => k.keyUsage !== 'npm:attestations' || !k.keyId.startsWith('SHA256:jl3'));
    const signaturesOnly = ks.parseNpmKeys(JSON.stringify(keysDocument), 'keys');
    const refused = await verifyNpm([fixture(NPM, 'sigstore-2.3.1.publish.sigstore.json')], { npmKeys: signaturesOnly, policy: undefined });
    expect(refused.failures[0]!.reason).toMatch(/SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA", which is not an npm registry attestation key/);
  });

  it('with a policy, npm publish attestations alone do not satisfy it; without one, a certificate is not trusted', async () => {
    const publishOnly = await verifyNpm([fixture(NPM, 'sigstore-2.3.1.publish.sigstore.json')]);
    expect(publishOnly).toMatchObject({ ok: false, failures: [], reason: expect.stringMatching(/no attestation is signed by a signer the policy trusts/) });
    const noPolicy = await verifyNpm([fixture(NPM, 'sigstore-2.3.1.provenance.sigstore.json')], { policy: undefined });
    expect(noPolicy.failures[0]!.reason).toMatch(/signed with a certificate: say who is trusted/);
  });

  it('accepts only the predicate types asked for (SLSA provenance v1 by default)', async () => {
    const dir = 'pypi-pypi-attestations-0.0.19-publish';
    const options = { artifact: bytes(dir, 'pypi_attestations-0.0.19.tar.gz'), bundles: [fixture(dir, 'pypi_attestations-0.0.19.tar.gz.publish.attestation')], trustedRoot: publicGood, policy: repo('trailofbits/pypi-attestations') };
    const refused = await ks.verifyAttestation(options);
    expect(refused.failures[0]!.reason).toMatch(/predicate type "https:\/\/docs.pypi.org\/attestations\/publish\/v1" is not one asked for .*--predicate-type/);
    expect((await ks.verifyAttestation({ ...options, predicateTypes: [PYPI_PUBLISH] })).ok).toBe(true);
  });

  it('binds the artifact: another file, or another digest algorithm than the subjects list, fails', async () => {
    const wrong = await verifyNpm([fixture(NPM, 'sigstore-2.3.1.provenance.sigstore.json')], { artifact: bytes('npm-sigstore-1.0.0-slsa-v0.2', 'sigstore-1.0.0.tgz') });
    expect(wrong.failures[0]!.reason).toBe("no subject of the in-toto statement carries the artifact's digest");
    const sha256 = { digest: Buffer.from('1b5041a35f86125db7f872742502470753fd2e1109521b7dbff8a61d229a03c2', 'hex'), algorithm: 'sha256' as const };
    expect((await verifyNpm([fixture(NPM, 'sigstore-2.3.1.provenance.sigstore.json')], { artifact: sha256 })).failures).toEqual([
      { source: fixture(NPM, 'sigstore-2.3.1.provenance.sigstore.json'), code: 'ARTIFACT_MISMATCH', reason: "no subject of the in-toto statement carries the artifact's digest" },
    ]);
  });

  it('refuses what is not an attestation file, naming it', async () => {
    const cases: Array<[string, string | object, RegExp]> = [
      ['empty-npm.json', { attestations: [] }, /holds no attestation/],
      ['pep740-v2.json', { version: 2, verification_material: {}, envelope: {} }, /PEP 740 attestation: unsupported version 2/],
      ['other.json', { hello: 'world' }, /not a Sigstore bundle, JSON Lines of bundles, PEP 740/],
      ['broken.json', '{"mediaType": ', /not valid JSON or JSON Lines/],
      ['dup.json', '{"attestations": [], "attestations": []}', /duplicate key "attestations"/],
      ['provenance-v2.json', { version: 2, attestation_bundles: [] }, /unsupported provenance version 2/],
    ];
    for (const [name, content, reason] of cases) {
      const path = write(name, content);
      const result = await verifyNpm([path]);
      expect(result.failures, name).toEqual([{ source: path, code: 'ATTESTATION_FILE_INVALID', reason: expect.stringMatching(reason) }]);
      expect(result.failures[0]!.reason.startsWith(path), name).toBe(true);
    }
  });

  it("holds a PyPI provenance object's publisher against the certificate: the grouping is not signed", async () => {
    const dir = 'pypi-pypi-attestations-0.0.19-provenance';
    const original = JSON.parse(readFileSync(fixture(dir, 'pypi_attestations-0.0.19.tar.gz.provenance'), 'utf8'));
    const verify = (publisher: Record<string, unknown>) => {
      const document = structuredClone(original);
      document.attestation_bundles[0].publisher = publisher;
      return ks.verifyAttestation({
        artifact: bytes(dir, 'pypi_attestations-0.0.19.tar.gz'),
        bundles: [write('provenance.json', document)],
        trustedRoot: publicGood,
        policy: ks.githubAttestationPolicy({ owner: 'trailofbits' })!,
        predicateTypes: [PYPI_PUBLISH],
      });
    };
    const publisher = original.attestation_bundles[0].publisher;
    const ok = await verify(publisher);
    expect(ok.ok).toBe(true);
    expect(ok.verified[0]!.publisher).toEqual(publisher);
    expect((await verify({ ...publisher, repository: 'trailofbits/other' })).failures[0]!.reason).toBe(
      'the GitHub publisher\'s repository is "https://github.com/trailofbits/other", but the certificate says "https://github.com/trailofbits/pypi-attestations"',
    );
    expect((await verify({ ...publisher, workflow: 'other.yml' })).failures[0]!.reason).toMatch(/the GitHub publisher's workflow is ".*\/\.github\/workflows\/other\.yml@"/);
    expect((await verify({ kind: 'Elsewhere', repository: 'trailofbits/pypi-attestations' })).failures[0]!.reason).toMatch(/unknown publisher kind "Elsewhere"/);
  });

  it("reads GitHub's attestations API answer and JSON Lines of its entries", async () => {
    const provenance = JSON.parse(readFileSync(fixture(NPM, 'sigstore-2.3.1.provenance.sigstore.json'), 'utf8'));
    const api = await verifyNpm([write('api.json', { attestations: [{ bundle: provenance, repository_id: 495574555 }] })]);
    expect(api.ok).toBe(true);
    expect(api.verified[0]!.format).toBe('github-api');
    const lines = await verifyNpm([write('api.jsonl', `${JSON.stringify({ bundle: provenance, repository_id: 1 })}\n${JSON.stringify(provenance)}\n`)]);
    expect(lines.verified.map((a) => a.format)).toEqual(['jsonl', 'jsonl']);
    expect(lines.ok).toBe(true);
  });

  it('refuses a FIFO planted as the attestation file instead of waiting on it', async () => {
    const fifo = join(scratch, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    const result = await verifyNpm([fifo]);
    expect(result.failures).toEqual([{ source: fifo, code: 'ATTESTATION_FILE_INVALID', reason: `${fifo} is not a regular file` }]);
  });
});

describe('gh-style policies on real attestations', () => {
  const reusable = 'gh-reusable-workflow-signer';
  const verifyReusable = (policy: import('../dist/index.js').Policy) =>
    ks.verifyAttestation({ artifact: bytes(reusable, 'reusable-workflow-artifact'), bundles: [fixture(reusable, 'reusable-workflow-attestation.sigstore.json')], trustedRoot: publicGood, policy });

  it('a reusable signer workflow: --repo alone fails on the SAN, with --signer-workflow it holds', async () => {
    expect((await verifyReusable(repo('malancas/attest-demo'))).failures[0]!.reason).toMatch(/identity is "https:\/\/github.com\/github\/artifact-attestations-workflows/);
    const signer = 'github/artifact-attestations-workflows/.github/workflows/attest.yml';
    expect((await verifyReusable(repo('malancas/attest-demo', { signerWorkflow: signer, sourceRef: 'refs/heads/main', denySelfHostedRunners: true }))).ok).toBe(true);
    expect((await verifyReusable(repo('malancas/attest-demo', { signerWorkflow: signer, sourceRef: 'refs/heads/dev' }))).failures[0]!.reason).toMatch(/source repository ref .* is "refs\/heads\/main"/);
    expect((await verifyReusable(repo('malancas/other', { signerWorkflow: signer }))).failures[0]!.reason).toMatch(/source repository URI/);
    expect((await verifyReusable(ks.githubAttestationPolicy({ owner: 'malancas', signerRepo: 'github/artifact-attestations-workflows' })!)).ok).toBe(true);
    expect((await verifyReusable(ks.githubAttestationPolicy({ owner: 'evil', signerRepo: 'github/artifact-attestations-workflows' })!)).failures).toEqual([
      { source: expect.stringMatching(/reusable-workflow-attestation\.sigstore\.json$/), code: 'POLICY_ERROR', reason: expect.stringMatching(/^the signer is not trusted by the policy: source repository owner URI \(1\.3\.6\.1\.4\.1\.57264\.1\.16\) is "https:\/\/github\.com\/malancas", expected/) },
    ]);
  });

  it('a signer workflow or repository alone is refused: it would trust every repository that calls it', async () => {
    // What such a policy would have been (the shared workflow's SAN and GitHub's issuer) verifies
    // a build of malancas/attest-demo, which the user never named: anyone may call the workflow.
    const shared = ks.identityPolicy(ks.matching('https://github\\.com/github/artifact-attestations-workflows/\\.github/workflows/attest\\.yml@.+'), ks.exactly('https://token.actions.githubusercontent.com'));
    expect((await verifyReusable(shared)).ok).toBe(true);
    const signer = 'github/artifact-attestations-workflows/.github/workflows/attest.yml';
    expect(() => ks.githubAttestationPolicy({ signerWorkflow: signer })).toThrow(
      new ks.PolicyError('signer-workflow needs owner or repo: without them every repository that calls the signer\'s workflows is trusted'),
    );
    expect(() => ks.githubAttestationPolicy({ signerRepo: 'github/artifact-attestations-workflows', sourceRef: 'refs/heads/main' })).toThrow(/^signer-repo needs owner or repo/);
    expect(() => ks.githubAttestationPolicy({ signerWorkflow: signer, signerRepo: 'github/artifact-attestations-workflows', owner: 'malancas' })).toThrow(/signer-workflow and signer-repo exclude each other/);
    expect(() => ks.githubAttestationPolicy({ signerWorkflow: signer, owner: 'malancas', identity: ks.exactly('x') })).toThrow(/signer-workflow and certificate-identity exclude each other/);
    for (const flags of [['--signer-workflow', signer], ['--signer-repo', 'github/artifact-attestations-workflows', '--source-ref', 'refs/heads/main']]) {
      const { code, stdout, stderr } = await runCli([
        'verify-attestation', fixture(reusable, 'reusable-workflow-artifact'), '--bundle', fixture(reusable, 'reusable-workflow-attestation.sigstore.json'),
        '--trusted-root', fixture('trust', 'public-good-trusted_root.json'), ...flags,
      ]);
      expect({ code, stdout }, flags.join(' ')).toEqual({ code: 2, stdout: '' });
      expect(stderr).toMatch(new RegExp(`${flags[0]!.slice(2)} needs owner or repo`));
    }
  });

  it('falls back to the legacy extensions of a 2023 certificate (no source repository URI)', async () => {
    const dir = 'npm-sigstore-1.0.0-slsa-v0.2';
    const options = { artifact: bytes(dir, 'sigstore-1.0.0.tgz'), bundles: [fixture(dir, 'sigstore-1.0.0.provenance.sigstore.json')], trustedRoot: publicGood, predicateTypes: ['https://slsa.dev/provenance/v0.2'] };
    expect((await ks.verifyAttestation({ ...options, policy: ks.githubAttestationPolicy({ owner: 'sigstore', sourceRef: 'refs/tags/v1.0.0' })! })).ok).toBe(true);
    expect((await ks.verifyAttestation({ ...options, policy: repo('sigstore/sigstore-js', { sourceDigest: '06528997c3c8ab9f864fad9a3658446aca7fd86d' }) })).ok).toBe(true);
    const other = await ks.verifyAttestation({ ...options, policy: ks.githubAttestationPolicy({ owner: 'sigstore', signerRepo: 'sigstore/sigstore-js', repo: 'sigstore/sigstore-python' })! });
    expect(other.failures[0]!.reason).toMatch(/GitHub workflow repository \(legacy\) .* is "sigstore\/sigstore-js"/);
    // No runner environment in such a certificate: --deny-self-hosted-runners cannot hold.
    expect((await ks.verifyAttestation({ ...options, policy: repo('sigstore/sigstore-js', { denySelfHostedRunners: true }) })).failures[0]!.reason).toMatch(/no runner environment/);
  });

  it('policy files test the provenance predicate; a signature without one never satisfies them', async () => {
    const policy = ks.parsePolicy({
      issuer: 'https://token.actions.githubusercontent.com',
      github: { repository: 'sigstore/sigstore-js' },
      predicate: { builderId: 'https://github.com/actions/runner/github-hosted', workflowPath: '.github/workflows/release.yml', sourceDigest: { regexp: '[0-9a-f]{40}' } },
    });
    expect((await verifyNpm([fixture(NPM, 'sigstore-2.3.1.provenance.sigstore.json')], { policy })).ok).toBe(true);
    const selfHosted = ks.parsePolicy({
      issuer: 'https://token.actions.githubusercontent.com',
      identity: { regexp: 'https://github\\.com/sigstore/.*' },
      predicate: { builderId: 'https://github.com/actions/runner/self-hosted' },
    });
    expect((await verifyNpm([fixture(NPM, 'sigstore-2.3.1.provenance.sigstore.json')], { policy: selfHosted })).failures[0]!.reason).toMatch(
      /provenance builder id is "https:\/\/github.com\/actions\/runner\/github-hosted", expected "https:\/\/github.com\/actions\/runner\/self-hosted"/,
    );
    const gha = { subjectAlternativeName: 'https://github.com/sigstore/x/.github/workflows/a.yml@refs/heads/main', extensions: new Map([['1.3.6.1.4.1.57264.1.8', 'https://token.actions.githubusercontent.com']]), undecodable: new Map() };
    expect(selfHosted.check(gha)).toMatch(/checks the provenance builder id, but the signature carries no in-toto statement/);
    expect(() => ks.parsePolicy({ issuer: 'x', predicate: { builder: 'y' } })).toThrow(/unknown field "builder"/);
    // The predicate is the signer's own words: on GitHub Actions anyone can write these.
    const onlyPredicate = { issuer: 'https://token.actions.githubusercontent.com', predicate: { workflowRepository: 'https://github.com/sigstore/sigstore-js', builderId: 'https://github.com/actions/runner/github-hosted' } };
    expect(() => ks.parsePolicy(onlyPredicate)).toThrow(/^the policy does not pin the signer on GitHub Actions, where anyone can sign/);
    const { code, stdout, stderr } = await runCli(['verify-attestation', fixture(NPM, 'sigstore-2.3.1.tgz'), '--bundle', fixture(NPM, 'sigstore-2.3.1.provenance.sigstore.json'), '--policy', write('only-predicate.json', onlyPredicate)]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(/only-predicate\.json: the policy does not pin the signer on GitHub Actions/);
  });

  it('GitHub release attestations: GitHub root, no OIDC issuer, the release predicate', async () => {
    const options = {
      artifact: { digest: Buffer.from('e15b593c6ab8d7725a3cc82226ef816cac6bf9c70eed383bd459295cc65f5ec3', 'hex'), algorithm: 'sha256' as const },
      bundles: [fixture('gh-release-attestation-delme-v6', 'github_release_bundle.json')],
      predicateTypes: ['https://in-toto.io/attestation/release/v0.1'],
      policy: ks.githubReleasesPolicy,
    };
    expect((await ks.verifyAttestation({ ...options, trustedRoot: githubRoot })).ok).toBe(true);
    expect((await ks.verifyAttestation({ ...options, trustedRoot: publicGood })).failures).toEqual([
      { source: options.bundles[0], code: 'TIMESTAMP_ERROR', reason: expect.stringMatching(/^timestamp could not be verified \(the signing certificate was issued by "O=GitHub, Inc\., CN=Fulcio Intermediate l1", which the trusted root does not hold/) },
    ]);
    // A Fulcio certificate always names an issuer: the release identity from a login is refused.
    expect(ks.githubReleasesPolicy.check({ subjectAlternativeName: 'https://dotcom.releases.github.com', extensions: new Map([['1.3.6.1.4.1.57264.1.8', 'https://accounts.google.com']]), undecodable: new Map() })).toMatch(/expected none/);
  });
});

describe('kernelseal verify-attestation', () => {
  const npmArgs = [fixture(NPM, 'sigstore-2.3.1.tgz'), '--bundle', fixture(NPM, 'sigstore-2.3.1.attestations.json'), '--trusted-root', fixture('trust', 'public-good-trusted_root.json')];

  it('prints each attestation, who signed it and the provenance', async () => {
    const { code, stdout } = await runCli(['verify-attestation', ...npmArgs, '--repo', 'sigstore/sigstore-js']);
    expect(code).toBe(0);
    expect(stdout).toContain('2 attestations verified');
    expect(stdout).toContain('signed by the npm registry (key SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA)');
    expect(stdout).toContain('source https://github.com/sigstore/sigstore-js @ 46e7056ff9912ebfee5298d94024895a9fea76c0 (refs/heads/main)');
    expect(stdout).toContain('builder https://github.com/actions/runner/github-hosted');
    expect(stdout).toContain('run https://github.com/sigstore/sigstore-js/actions/runs/9116405766/attempts/1');
  });

  it('usage errors exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[fixture(NPM, 'sigstore-2.3.1.tgz')], /--bundle is required/],
      [[...npmArgs, '--source-ref', 'refs/heads/main'], /--source-ref needs a signer/],
      [[...npmArgs, '--repo', 'not a repo'], /repo must be "owner\/name"/],
      [[...npmArgs, '--repo', 'a/b', '--npm-keys', join(scratch, 'missing.json')], /missing.json: not found/],
      [[...npmArgs, '--signer-workflow', 'org/repo'], /signer-workflow must be/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runCli(['verify-attestation', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(message);
    }
  });
});

describe("SLSA v0.2 in npm's documents, as npm audit signatures reads them", () => {
  const V02 = 'npm-sigstore-1.0.0-slsa-v0.2';
  const options = (bundle: string) => ({ artifact: bytes(V02, 'sigstore-1.0.0.tgz'), bundles: [fixture(V02, bundle)], trustedRoot: publicGood, policy: repo('sigstore/sigstore-js'), npmKeys });

  it('accepts v0.2 provenance by default in an npm attestations document', async () => {
    const result = await ks.verifyAttestation(options('sigstore-1.0.0.attestations.json'));
    expect(result.ok, JSON.stringify(result.failures)).toBe(true);
    expect(result.verified.map((a) => a.predicateType)).toEqual(['https://slsa.dev/provenance/v0.2', ks.NPM_PUBLISH_PREDICATE]);
  });

  it('elsewhere v1 only, unless asked: the same v0.2 statement in a plain bundle is refused by default', async () => {
    const result = await ks.verifyAttestation(options('sigstore-1.0.0.provenance.sigstore.json'));
    expect(result.failures).toEqual([expect.objectContaining({ code: 'PREDICATE_TYPE_ERROR' })]);
    expect((await ks.verifyAttestation({ ...options('sigstore-1.0.0.provenance.sigstore.json'), predicateTypes: ['https://slsa.dev/provenance/v0.2'] })).ok).toBe(true);
  });
});
