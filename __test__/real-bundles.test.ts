import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli, testdata } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const bundles = (...parts: string[]) => testdata('sigstore-bundles', ...parts);
const read = (...parts: string[]) => readFileSync(bundles(...parts));
const identity = (san: string, issuer: string) => ({ policy: ks.identityPolicy(ks.exactly(san), ks.exactly(issuer)) });

const WHEEL_SHA256 = 'c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201';
const wheel = { digest: Buffer.from(WHEEL_SHA256, 'hex'), algorithm: 'sha256' as const };

describe('real bundles verify against their trusted roots', () => {
  it('a v0.3 message signature signed on staging (sigstore-python "production/bundle_v3")', async () => {
    // Its certificate chains to the staging Fulcio and its entry is in rekor.sigstage.dev:
    // it verifies against the staging root, not the public-good one.
    const staging = await ks.readTrustedRoot(testdata('trust', 'staging-trusted_root.json'));
    const bundle = ks.parseBundle(read('production', 'bundle_v3.txt.sigstore'));
    const artifact = { bytes: read('production', 'bundle_v3.txt') };
    const signer = ks.verifyBundle(bundle, artifact, staging, identity('william@yossarian.net', 'https://github.com/login/oauth'));
    expect(signer).toMatchObject({ method: 'certificate', identity: 'william@yossarian.net', issuer: 'https://github.com/login/oauth' });
    expect(signer.signedAt).toBe('2024-04-02T19:19:09.000Z');
    expect(() => ks.verifyBundle(bundle, artifact, ks.pinnedTrustedRoot(), identity('william@yossarian.net', 'https://github.com/login/oauth'))).toThrow(
      /certificate chain/,
    );
  });

  it('a Rekor v2 (hashedrekord 0.0.2) bundle with an RFC 3161 timestamp, on staging', async () => {
    const staging = await ks.readTrustedRoot(testdata('trust', 'staging-trusted_root.json'));
    const signer = ks.verifyBundle(
      ks.parseBundle(read('staging-rekor-v2', 'staging-rekor-v2.txt.sigstore.json')),
      { bytes: read('staging-rekor-v2', 'staging-rekor-v2.txt') },
      staging,
      identity('jku@goto.fi', 'https://github.com/login/oauth'),
    );
    expect(signer).toMatchObject({ identity: 'jku@goto.fi', logIndex: '645', signedAt: '2025-06-09T11:57:38.000Z' });
  });

  it('reports the log index the log vouches for, not the one a bundle claims beside it', async () => {
    // A Rekor v2 entry has no signed promise: its top-level logIndex is covered by nothing; the
    // inclusion proof's is (the proof is checked at it).
    const staging = await ks.readTrustedRoot(testdata('trust', 'staging-trusted_root.json'));
    const json = JSON.parse(read('staging-rekor-v2', 'staging-rekor-v2.txt.sigstore.json').toString('utf8'));
    json.verificationMaterial.tlogEntries[0].logIndex = '999999';
    const signer = ks.verifyBundle(ks.parseBundle(JSON.stringify(json)), { bytes: read('staging-rekor-v2', 'staging-rekor-v2.txt') }, staging, identity('jku@goto.fi', 'https://github.com/login/oauth'));
    expect(signer.logIndex).toBe('645');
    // With a promise (Rekor v1), the entry's own index is what the log signed: changed, it fails.
    const v1 = JSON.parse(read('production', 'bundle_v3_github.whl.sigstore').toString('utf8'));
    v1.verificationMaterial.tlogEntries[0].logIndex = String(Number(v1.verificationMaterial.tlogEntries[0].logIndex) + 1);
    expect(() => ks.verifyBundle(ks.parseBundle(JSON.stringify(v1)), wheel, ks.pinnedTrustedRoot(), { policy: ks.githubWorkflowPolicy({ repository: 'trailofbits/rfc8785.py' }) })).toThrow(
      'inclusion promise could not be verified',
    );
  });

  const statement = JSON.parse(readFileSync(bundles('sigstore-js', 'statement.json'), 'utf8'));
  const npmPackage = { digest: Buffer.from(statement.subject[0].digest.sha512, 'hex'), algorithm: 'sha512' as const };
  for (const name of readdirSync(bundles('sigstore-js')).filter((f) => f.endsWith('.sigstore'))) {
    it(`the sigstore-js DSSE bundle ${name}, bound to its in-toto subject`, () => {
      const bundle = ks.parseBundle(read('sigstore-js', name));
      const signer = ks.verifyBundle(bundle, npmPackage, ks.pinnedTrustedRoot(), identity('brian@dehamer.com', 'https://github.com/login/oauth'));
      expect(signer.identity).toBe('brian@dehamer.com');
      // The same envelope does not vouch for another artifact.
      const other = { digest: Buffer.alloc(64, 1), algorithm: 'sha512' as const };
      expect(() => ks.verifyBundle(bundle, other, ks.pinnedTrustedRoot(), identity('brian@dehamer.com', 'https://github.com/login/oauth'))).toThrow(
        "no subject of the in-toto statement carries the artifact's digest",
      );
    });
  }

  it('the GitHub-signed wheel satisfies a workflow policy for its own repository', () => {
    const bundle = ks.parseBundle(read('production', 'bundle_v3_github.whl.sigstore'));
    const policy = ks.githubWorkflowPolicy({ repository: 'trailofbits/rfc8785.py', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v0.1.2' });
    const signer = ks.verifyBundle(bundle, wheel, ks.pinnedTrustedRoot(), { policy });
    expect(signer).toMatchObject({
      method: 'certificate',
      identity: 'https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2',
      issuer: 'https://token.actions.githubusercontent.com',
      sourceRepository: 'https://github.com/trailofbits/rfc8785.py',
      workflow: 'https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2',
      ref: 'refs/tags/v0.1.2',
    });
    expect(signer.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('the GitHub-signed wheel fails the kernels-community policy, naming the field', () => {
    const bundle = ks.parseBundle(read('production', 'bundle_v3_github.whl.sigstore'));
    expect(() => ks.verifyBundle(bundle, wheel, ks.pinnedTrustedRoot(), { policy: ks.kernelsCommunityPolicy })).toThrow(
      'the signer is not trusted by the policy: source repository URI (1.3.6.1.4.1.57264.1.12) is "https://github.com/trailofbits/rfc8785.py", expected "https://github.com/huggingface/kernels-community"',
    );
  });

  it('the wheel through the CLI: a workflow policy file and an identity regexp pass, kernels-community fails', async () => {
    const bundle = bundles('production', 'bundle_v3_github.whl.sigstore');
    const policyFile = join(tempDir(), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ github: { repository: 'trailofbits/rfc8785.py', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v0.1.2' } }));
    const byFile = await runCli(['verify-bundle', '--offline', '--bundle', bundle, '--policy', policyFile, `sha256:${WHEEL_SHA256}`]);
    expect(byFile.code).toBe(0);
    expect(byFile.stdout).toContain('signature verified');
    const refused = await runCli(['verify-bundle', '--offline', '--bundle', bundle, '--policy', 'kernels-community', `sha256:${WHEEL_SHA256}`]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('source repository URI (1.3.6.1.4.1.57264.1.12) is "https://github.com/trailofbits/rfc8785.py"');
    const regexp = await runCli([
      'verify-bundle', '--offline', '--bundle', bundle,
      '--certificate-identity-regexp', 'https://github\\.com/trailofbits/rfc8785\\.py/\\.github/workflows/release\\.yml@refs/tags/v.*',
      '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com',
      `sha256:${WHEEL_SHA256}`, '--json',
    ]);
    expect(regexp.code).toBe(0);
    expect(JSON.parse(regexp.stdout).results[0]).toMatchObject({ ok: true, signer: { sourceRepository: 'https://github.com/trailofbits/rfc8785.py' } });
  });

  it('an identity regexp that would match only unanchored is refused', () => {
    const bundle = ks.parseBundle(read('production', 'bundle_v3_github.whl.sigstore'));
    // Matches a substring of the real identity: anchored, it must not match.
    const policy = ks.identityPolicy(ks.matching('trailofbits/rfc8785\\.py'), ks.exactly('https://token.actions.githubusercontent.com'));
    expect(() => ks.verifyBundle(bundle, wheel, ks.pinnedTrustedRoot(), { policy })).toThrow(
      /identity is "https:\/\/github.com\/trailofbits\/rfc8785.py\/.github\/workflows\/release.yml@refs\/tags\/v0.1.2", expected matching \^\(\?:trailofbits/,
    );
  });

  it('RFC 3161 timestamps from a TSA the trust config does not vouch for are refused (tsa-test)', async () => {
    // The test TSA in trust_config.json was created (and is trusted from) 2024-11-07; the
    // bundles' timestamps are from 2024-10-31 and do not verify under its keys. kernelseal, like
    // sigstore-js, refuses a bundle with any timestamp that does not verify (sigstore-python
    // would skip it and rely on the log's integrated time).
    const root = await ks.readTrustedRoot(bundles('tsa-test', 'trust_config.json'));
    for (const [name, san] of [
      ['bundle.txt.sigstore', 'alexis.challande@trailofbits.com'],
      ['bundle.txt.late_timestamp.sigstore', 'insecure-cloudtop-shared-user@cloudtop-prod-us-east.iam.gserviceaccount.com'],
    ] as const) {
      const bundle = ks.parseBundle(read('tsa-test', name));
      expect(() => ks.verifyBundle(bundle, { bytes: read('tsa-test', 'bundle.txt') }, root, identity(san, 'https://accounts.google.com'))).toThrow(
        'timestamp could not be verified',
      );
    }
  });
});
