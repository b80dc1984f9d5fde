import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { ROOT, runCli } from './helpers/package.js';

// Every case of the real attestation data (fixtures/attestations/cases.json, copied from the
// team's test data with its NOTICE), through the real command, by file and by digest: each
// check must give its stated outcome. The two checks cases.json marks optional are left out
// (verification thresholds are picked from the trusted root on the command line; subjects are
// bound by sha256, sha384 or sha512, not a git sha1).

const FIXTURES = join(ROOT, '__test__', 'fixtures', 'attestations');

interface Check {
  name: string;
  bundle: string;
  trustedRoot: string;
  artifact: string | null;
  digest: string | null;
  san: string | null;
  issuer: string | null;
  npmKeys: boolean;
  expected: 'VERIFIED' | 'FAIL';
  optional?: string;
}
interface Case {
  id: string;
  checks: Check[];
}

const cases = (JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;

/**
 * Who signed each case, from cases.json's summary: the identity a check without a SAN of its
 * own trusts, so that a check's outcome turns on what it varies (root, issuer, keys, digest).
 */
const SIGNERS: Record<string, string[]> = {
  'gh-attest-demo-wheel-github-instance': ['--repo', 'actions/attest-demo'],
  'gh-attest-demo-missing-cert_fail': ['--repo', 'actions/attest-demo'],
  'gh-reusable-workflow-signer': ['--repo', 'malancas/attest-demo', '--signer-repo', 'github/artifact-attestations-workflows'],
  'gh-custom-oidc-issuer': ['--repo', 'too-legit/attest'],
  'gh-release-attestation-delme-v6': ['--policy', 'github-releases'],
  'dsse-sigstore-js-2.1.0-bundle-v0.3': ['--repo', 'sigstore/sigstore-js'],
  'dsse-sigstore-js-2.1.0-bundle-v0.1': ['--repo', 'sigstore/sigstore-js'],
  'gh-jsonl-two-bundles-sigstore-js-2.1.0': ['--repo', 'sigstore/sigstore-js'],
  'dsse-invalid-signature_fail': ['--certificate-identity', 'brian@dehamer.com', '--certificate-oidc-issuer', 'https://github.com/login/oauth'],
  'pypi-pypi-attestations-0.0.19-publish': ['--repo', 'trailofbits/pypi-attestations'],
  'pypi-pypi-attestations-0.0.19-provenance': ['--repo', 'trailofbits/pypi-attestations'],
  'pypi-pypi-attestations-0.0.19-slsa': ['--repo', 'trailofbits/pypi-attestations'],
  'pypi-gitlab-oidc-project-0.0.3': ['--certificate-identity', 'https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main', '--certificate-oidc-issuer', 'https://gitlab.com'],
  'pypi-pypi-attestation-models-0.0.4a2': ['--repo', 'trailofbits/pypi-attestation-models'],
  'pypi-rfc8785-0.1.2-staging': ['--certificate-identity', 'william@yossarian.net', '--certificate-oidc-issuer', 'https://github.com/login/oauth'],
  'pypi-spt3g-1.0-staging-digest-only': ['--certificate-identity', 'william@yossarian.net', '--certificate-oidc-issuer', 'https://github.com/login/oauth'],
  'pypi-pypi-attestations-0.0.19-with-timestamp': ['--certificate-identity', 'jku@goto.fi', '--certificate-oidc-issuer', 'https://github.com/login/oauth'],
  'npm-sigstore-2.3.1': ['--repo', 'sigstore/sigstore-js'],
  'npm-sigstore-2.3.1-bad-provenance-signature_fail': ['--repo', 'sigstore/sigstore-js'],
  'npm-sigstore-1.0.0-slsa-v0.2': ['--repo', 'sigstore/sigstore-js'],
};

/**
 * Why each check that must fail fails: the code and reason of every failure it reports, read
 * from what cases.json says the check varies (another root, issuer, identity, keys, subject).
 */
/** Public-good's or staging's certificate checked against the other's root. */
const OTHER_INSTANCE = /^Failed to verify certificate chain: no valid certificate path found \(the signing certificate was issued by "O=sigstore\.dev, CN=sigstore-intermediate", which the trusted root does not hold/;
const EXPECTED_FAILURES: Record<string, [code: string, reason: string | RegExp]> = {
  'gh-attest-demo-wheel-github-instance / public-good root instead (wrong instance)': ['TIMESTAMP_ERROR', /^timestamp could not be verified \(the signing certificate was issued by "O=GitHub, Inc\., CN=Fulcio Intermediate l2", which the trusted root does not hold: GitHub's own Sigstore instance signed it/],
  'gh-attest-demo-missing-cert_fail / GitHub root': ['ATTESTATION_FILE_INVALID', /bundle-missing-cert\.jsonl: invalid Sigstore bundle: invalid bundle: missing or invalid content$/],
  'gh-reusable-workflow-signer / SAN = the caller workflow (wrong identity)': [
    'POLICY_ERROR',
    'the signer is not trusted by the policy: identity is "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d", expected "https://github.com/malancas/attest-demo/.github/workflows/shared.yml@refs/heads/main"',
  ],
  'gh-custom-oidc-issuer / default issuer': [
    'POLICY_ERROR',
    'the signer is not trusted by the policy: issuer is "https://token.actions.githubusercontent.com/hammer-time", expected "https://token.actions.githubusercontent.com"',
  ],
  'gh-release-attestation-delme-v6 / public-good root': ['TIMESTAMP_ERROR', /^timestamp could not be verified \(the signing certificate was issued by "O=GitHub, Inc\., CN=Fulcio Intermediate l1", which the trusted root does not hold: GitHub's own Sigstore instance signed it/],
  'dsse-sigstore-js-2.1.0-bundle-v0.3 / sha512 of the sigstore@2.2.0 tarball instead (not a subject)': ['ARTIFACT_MISMATCH', "no subject of the in-toto statement carries the artifact's digest"],
  'dsse-invalid-signature_fail / public-good root': ['TLOG_BODY_ERROR', 'tlog entry signature mismatch'],
  'pypi-pypi-attestations-0.0.19-publish / staging root': ['CERTIFICATE_ERROR', OTHER_INSTANCE],
  'pypi-gitlab-oidc-project-0.0.3 / GitHub Actions issuer': ['POLICY_ERROR', 'the signer is not trusted by the policy: issuer is "https://gitlab.com", expected "https://token.actions.githubusercontent.com"'],
  'pypi-rfc8785-0.1.2-staging / public-good root': ['CERTIFICATE_ERROR', OTHER_INSTANCE],
  'npm-sigstore-2.3.1 / publish bundle without the npm keys': ['KEY_ERROR', 'signed with the key "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA", which is not an npm registry attestation key'],
  'npm-sigstore-2.3.1-bad-provenance-signature_fail / all entries (provenance fails)': ['TLOG_BODY_ERROR', 'DSSE payload hash mismatch'],
  'npm-sigstore-2.3.1-bad-provenance-signature_fail / provenance bundle alone': ['TLOG_BODY_ERROR', 'DSSE payload hash mismatch'],
};

/** The predicate types the cases carry: accepting them is a policy choice, not what a case tests. */
const PREDICATE_TYPES = [
  'https://slsa.dev/provenance/v1',
  'https://slsa.dev/provenance/v0.2',
  'https://docs.pypi.org/attestations/publish/v1',
  'https://in-toto.io/attestation/release/v0.1',
].flatMap((type) => ['--predicate-type', type]);

const scratch = tempDir();
/** "Without the npm keys": a keys document holding only the registry's other (current) key. */
const otherNpmKeys = join(scratch, 'other-npm-keys.json');
const keys = JSON.parse(readFileSync(join(FIXTURES, 'trust', 'npm-registry-keys.json'), 'utf8')) as { keys: Array<{ keyId: string }> };
writeFileSync(otherNpmKeys, JSON.stringify({ keys: keys.keys.filter((k) => k.keyId !== 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA') }));

function argsFor(c: Case, check: Check, subject: string): string[] {
  const dir = join(FIXTURES, c.id);
  const root = check.trustedRoot.startsWith('../trust/') ? join(FIXTURES, 'trust', check.trustedRoot.slice('../trust/'.length)) : join(FIXTURES, check.trustedRoot);
  const npmKeys = check.npmKeys ? join(FIXTURES, 'trust', 'npm-registry-keys.json') : otherNpmKeys;
  return ['verify-attestation', subject, '--bundle', join(dir, check.bundle), '--trusted-root', root, '--npm-keys', npmKeys, ...signerOf(c, check), ...PREDICATE_TYPES, '--json'];
}

/** A check's own SAN and issuer replace the case's signer; an issuer alone replaces only the issuer. */
function signerOf(c: Case, check: Check): string[] {
  if (check.san === 'https://dotcom.releases.github.com') return ['--policy', 'github-releases'];
  // An npm publish attestation alone is trusted through the registry's key: no signer to name.
  if (check.bundle.endsWith('.publish.sigstore.json')) return [];
  if (check.san) return ['--certificate-identity', check.san, ...(check.issuer ? ['--certificate-oidc-issuer', check.issuer] : [])];
  const signer = [...SIGNERS[c.id]!];
  if (!check.issuer) return signer;
  const at = signer.indexOf('--certificate-oidc-issuer');
  return at >= 0 ? signer.with(at + 1, check.issuer) : [...signer, '--certificate-oidc-issuer', check.issuer];
}

/** The digest form of a check: its own digest, else the artifact's (sha512 for npm tarballs: their subjects list only that). */
function digestOf(c: Case, check: Check): string | undefined {
  if (check.digest) return check.digest;
  if (!check.artifact) return undefined;
  const algorithm = check.artifact.endsWith('.tgz') ? 'sha512' : 'sha256';
  return `${algorithm}:${createHash(algorithm).update(readFileSync(join(FIXTURES, c.id, check.artifact))).digest('hex')}`;
}

describe('every real attestation case gives its stated outcome', () => {
  for (const c of cases) {
    it(c.id, async () => {
      const runs = c.checks
        .filter((check) => !check.optional)
        .flatMap((check) => {
          const subjects = [check.artifact ? join(FIXTURES, c.id, check.artifact) : undefined, digestOf(c, check)]
            // The tampered bundle signs no artifact: a digest stands in, the signature fails first.
            .concat(check.artifact || check.digest ? [] : [`sha256:${'0'.repeat(64)}`])
            .filter((s): s is string => s !== undefined);
          return subjects.map(async (subject) => ({ check, subject, result: await runCli(argsFor(c, check, subject)) }));
        });
      for (const { check, subject, result } of await Promise.all(runs)) {
        const where = `${check.name} (${subject.replace(FIXTURES, '…')}): ${result.stdout}${result.stderr}`;
        expect(result.code, where).toBe(check.expected === 'VERIFIED' ? 0 : 1);
        const json = JSON.parse(result.stdout).results[0] as { ok: boolean; verified: unknown[]; failures: Array<{ reason: string }> };
        expect(json.ok, where).toBe(check.expected === 'VERIFIED');
        if (check.expected === 'VERIFIED') {
          expect(json.verified.length, where).toBeGreaterThan(0);
          expect(json.failures, where).toEqual([]);
        } else {
          const [code, reason] = EXPECTED_FAILURES[`${c.id} / ${check.name}`] ?? [];
          expect(code, `${c.id} / ${check.name}: record why it must fail`).toBeDefined();
          const failures = json.failures as Array<{ code: string; reason: string }>;
          expect(failures.length, where).toBeGreaterThan(0);
          for (const failure of failures) {
            expect(failure.code, where).toBe(code);
            if (typeof reason === 'string') expect(failure.reason, where).toBe(reason);
            else expect(failure.reason, where).toMatch(reason!);
          }
        }
      }
    });
  }
});
