import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { ROOT, runCli, testdata } from './helpers/package.js';
// The script that runs the whole suite from a checkout: the same command per case.
import { verifyArgs } from '../scripts/conformance.mjs';

// The bundle-verify cases of sigstore-conformance, through `kernelseal verify-bundle` with the
// conformance client protocol. Each case runs twice: with the artifact's path, and with
// sha256:<hex> in its place. A name ending in _fail must fail; every other must pass.
const CASES = testdata('sigstore-conformance');

const names = readdirSync(CASES).filter((name) => statSync(join(CASES, name)).isDirectory()).sort();

/**
 * Why each _fail case must fail, in its README's words (sigstore-conformance), and the reason
 * kernelseal gives for it: the failure must be that one, not any other.
 */
const EXPECTED_FAILURES: Record<string, string | RegExp> = {
  // "Bundle contains empty certificate chain"
  'bundle-empty-certificate-chain_fail': 'invalid signature bundle: invalid v0.1 bundle: missing or invalid verificationMaterial.content.x509CertificateChain.certificates',
  // "Bundle signature contains invalid base64 encoding"
  'bundle-invalid-base64-signature_fail': 'invalid signature bundle: messageSignature.signature is not base64',
  // "Bundle contains truncated/malformed JSON: verification should fail with parse error"
  'bundle-malformed-json_fail': /^invalid signature bundle: not valid JSON: /,
  // "Bundle tlog entry has negative log index"
  'bundle-negative-log-index_fail': 'invalid signature bundle: verificationMaterial.tlogEntries[0].logIndex must be a non-negative integer, not "-1"',
  // "Bundle has unknown/unsupported version"
  'bundle-unknown-version_fail': 'invalid signature bundle: unsupported bundle media type "application/vnd.dev.sigstore.bundle+json;version=99.9"',
  // "bundle certificate chain contains a root certificate: client should reject this"
  'bundle-with-root-cert_fail': "the bundle's certificate chain carries a certificate (1) the trusted root does not hold; roots and intermediates come from the trusted root only",
  // "checkpoint signature does not match the transparency log providing the entry"
  'checkpoint-bad-keyhint_fail': 'invalid checkpoint signature',
  // "The signature in the dsse envelope is incorrect": it is not the one the log entry recorded
  'dsse-invalid-sig_fail': 'tlog entry signature mismatch',
  // "DSSE envelope does not match the entry"
  'dsse-mismatch-envelope_fail': 'tlog entry signature mismatch',
  // "The inclusion proof has a corrupted hash ... the Merkle proof is invalid"
  'inclusion-proof-corrupted-hash_fail': 'calculated root hash does not match inclusion proof',
  // "The public key in the hashrekord entry has been modified": the log's promise no longer covers the entry
  'incorrect-public-key_fail': 'inclusion promise could not be verified',
  // "Certificate was issued outside the validity window defined in trusted root"
  'intoto-expired-certificate_fail': /^Failed to verify certificate chain: certificate is not valid or expired at the specified date /,
  // "log entry does not match the signed artifact"
  'intoto-log-entry-mismatch_fail': 'tlog entry signature mismatch',
  // "A v0.2 bundle where log entry does not contain an inclusion proof is invalid"
  'intoto-missing-inclusion-proof_fail': 'invalid signature bundle: invalid v0.2 bundle: missing or invalid verificationMaterial.tlogEntries[0].inclusionProof',
  // "A Signed Entry Timestamp (integrated time) that falls outside the validity window of the signing certificate is invalid"
  'intoto-set-outside-signing-cert-validity_fail': /^Failed to verify certificate chain: certificate is not valid or expired at the specified date \(signed at 2023-02-02/,
  // "Rekor checkpoint signature is invalid"
  'invalid-checkpoint-signature_fail': 'invalid checkpoint signature',
  // (no README) a CT log key that does not sign the certificate's SCT
  'invalid-ct-key_fail': 'SCT verification failed',
  // "The inclusion proof is old and is not valid for this entry": a v0.2 proof must carry its checkpoint
  'invalid-inclusion-proof_fail': 'invalid signature bundle: invalid v0.2 bundle: missing or invalid verificationMaterial.tlogEntries[0].inclusionProof.checkpoint',
  // "bundle is signed with key but no key is provided"
  'managed-key-no-key_fail': 'the bundle is signed with a key, not a certificate: verify it with --key and its public key',
  // "The messageDigest in the bundle does not match the artifact hash"
  'message-digest-mismatch_fail': "the artifact's sha256 does not match the bundle's message digest",
  // "The log checkpoint ... missing log signature / origin / root hash / size"
  'rekor2-checkpoint-missing-log-signature_fail': 'no signatures found in checkpoint',
  'rekor2-checkpoint-missing-origin_fail': 'too few lines in checkpoint header',
  'rekor2-checkpoint-missing-root-hash_fail': 'too few lines in checkpoint header',
  'rekor2-checkpoint-missing-size_fail': 'too few lines in checkpoint header',
  // "The envelope signature does not verify ... (made with a different key entirely)": not the logged one
  'rekor2-dsse-invalid-sig_fail': 'signature mismatch',
  // "the envelope signature does not match the signature recorded in the tlog entry"
  'rekor2-dsse-mismatch-sig_fail': 'signature mismatch',
  // "the bundle would be valid, but the inclusion proof is removed"
  'rekor2-no-inclusion-proof_fail': 'invalid signature bundle: invalid bundle: missing or invalid verificationMaterial.tlogEntries[0].inclusionProof',
  // "there is _no_ TSA timestamp in the bundle ... making TSA timestamps required"
  'rekor2-no-timestamp_fail': 'expected 1 timestamps, got 0',
  // "The trusted root ..." TSA validity, an expired TSA chain, an untrusted TSA with or without embedded certificates
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': 'timestamp could not be verified',
  'rekor2-timestamp-outside-tsa-cert-validity_fail': 'timestamp could not be verified',
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': 'timestamp could not be verified',
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': 'timestamp could not be verified',
  // "the timestamp time is outside the signing certificate lifetime"
  'rekor2-timestamp-with-incorrect-time_fail': /^Failed to verify certificate chain: certificate is not valid or expired at the specified date \(signed at 2025-07-15T10:33:31\.000Z/,
  // "The signature in this bundle is incorrect"
  'signature-mismatch_fail': 'signature mismatch',
  // "otherwise cryptographically valid but artifact is incorrect": the log recorded another signature
  'wrong-hashedrekord-artifact_fail': 'signature mismatch',
  // "hashedrekord is for a different entry"
  'wrong-hashedrekord-entry_fail': 'signature mismatch',
  // "a valid bundle for the default artifact, but the artifact here is different"
  'wrong-material_fail': "the artifact's sha256 does not match the bundle's message digest",
};

/** The command the suite's harness runs for a case (scripts/conformance.mjs, which runs the whole suite). */
const argsFor = (name: string, mode: 'path' | 'digest'): string[] => verifyArgs(CASES, join(CASES, name), mode);

describe.concurrent('sigstore-conformance bundle-verify cases', () => {
  it('has the cases, and a recorded reason for each one that must fail', () => {
    expect(names.length).toBeGreaterThanOrEqual(50);
    expect(Object.keys(EXPECTED_FAILURES).sort()).toEqual(names.filter((name) => name.endsWith('_fail')));
  });

  for (const name of names) {
    for (const mode of ['path', 'digest'] as const) {
      const shouldFail = name.endsWith('_fail');
      it(`${name} (${mode}) ${shouldFail ? 'fails' : 'verifies'}`, async () => {
        const { code, stdout, stderr } = await runCli(argsFor(name, mode));
        expect(stderr).toBe('');
        if (shouldFail) {
          expect(code).toBe(1);
          const expected = EXPECTED_FAILURES[name];
          expect(expected, `${name}: record why it must fail`).toBeDefined();
          const [, reason] = /^❌ [^\n]+?: ([^]*)\n$/.exec(stdout) ?? [];
          if (typeof expected === 'string') expect(reason).toBe(expected);
          else expect(reason).toMatch(expected!);
        } else {
          expect(code).toBe(0);
          expect(stdout).toMatch(/^✅ .+: signature verified; (the artifact \([\d.]+ [kMG]?B\) hashed|over the digest given \(the artifact itself was not read\))\n/);
        }
      });
    }
  }
});

describe('failures name what did not fit', () => {
  it.each([
    ['intoto-expired-certificate_fail', '2023-02-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z to 2030-01-01T00:10:00.000Z'],
    ['intoto-set-outside-signing-cert-validity_fail', '2023-02-02T00:00:00.000Z', '2023-02-01T00:00:00.000Z to 2023-02-01T00:10:00.000Z'],
  ])('%s: the signing time and the certificate validity', async (name, signedAt, validity) => {
    const { code, stdout } = await runCli(argsFor(name, 'path'));
    expect(code).toBe(1);
    expect(stdout).toContain(`certificate is not valid or expired at the specified date (signed at ${signedAt}; the signing certificate is valid from ${validity})`);
  });
});

describe('scripts/conformance.mjs: the whole suite from a checkout', () => {
  const script = join(ROOT, 'scripts', 'conformance.mjs');
  const runScript = (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
      child.on('close', (code) => resolve({ code, stdout }));
    });

  it('runs every case of a checkout twice (path and digest), reports one whose outcome is not the expected one, and exits 1', async () => {
    // A checkout laid out as the suite's: test/assets/bundle-verify, with a failing case renamed
    // as if it had to pass.
    const checkout = tempDir();
    const assets = join(checkout, 'test', 'assets', 'bundle-verify');
    mkdirSync(assets, { recursive: true });
    cpSync(join(CASES, 'a.txt'), join(assets, 'a.txt'));
    cpSync(join(CASES, 'happy-path-v0.3'), join(assets, 'happy-path-v0.3'), { recursive: true });
    cpSync(join(CASES, 'signature-mismatch_fail'), join(assets, 'signature-mismatch'), { recursive: true });
    const { code, stdout } = await runScript(checkout);
    expect(code).toBe(1);
    expect(stdout).toContain('FAIL signature-mismatch [path] expected pass, got fail');
    expect(stdout).toMatch(/2 cases, 4 runs: 2 passed, 2 failed\n$/);
  });
});
