import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.js';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';
import { KERNEL_METADATA, unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

const REPO = 'my-org/relu-kernel';
const IDENTITY = `https://github.com/${REPO}/.github/workflows/build.yaml@refs/heads/main`;
const ISSUER = 'https://token.actions.githubusercontent.com';
const sigstore = withMockSigstore();
let trust: string[];

beforeAll(() => {
  trust = ['--trusted-root', sigstore.trustedRootPath];
});

async function signed(dir = unsignedVariant()) {
  const signer = { method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url } as const;
  await ks.signVariant(dir, { signer });
  return dir;
}

const byIdentity = () => ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER];

describe('kernelseal verify', () => {
  it('prints the reference success line, then who signed it, and exits 0', async () => {
    const dir = await signed();
    const { code, stdout, stderr } = await runCli(['verify', dir, ...trust, ...byIdentity()]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [first, second, ...rest] = stdout.trimEnd().split('\n');
    expect(first).toBe(`✅ ${dir}: kernel metadata is correctly signed; 6 files (265 kB) re-hashed`);
    expect(second).toMatch(
      new RegExp(`^   signed by ${IDENTITY.replace(/[.]/g, '\\.')}, issuer ${ISSUER.replace(/[.]/g, '\\.')}, repository https://github\\.com/${REPO}, ref refs/heads/main, commit a1b2c3d4e5f60718293a4b5c6d7e8f9012345678, at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, log index \\d+$`),
    );
    expect(rest).toEqual([]);
  });

  it('trusts only kernels-community by default, and says which field does not match', async () => {
    const dir = await signed();
    const { code, stdout } = await runCli(['verify', dir, ...trust]);
    expect(code).toBe(1);
    expect(stdout).toBe(
      `❌ ${dir}: metadata signature verification failed:\n` +
        `the signer is not trusted by the policy: source repository URI (1.3.6.1.4.1.57264.1.12) is "https://github.com/${REPO}", expected "https://github.com/huggingface/kernels-community"\n`,
    );
  });

  it('words every failure as the reference does', async () => {
    const cases: Array<[string, (dir: string) => void, (dir: string) => string]> = [
      ['signature missing', (d) => rmSync(join(d, 'metadata.json.sigstore')), (d) => `❌ ${d}: cannot verify kernel integrity, signature not found\n`],
      [
        'bundle invalid',
        (d) => writeFileSync(join(d, 'metadata.json.sigstore'), '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"'),
        (d) => `❌ ${d}: cannot verify kernel integrity, invalid signature bundle:\nnot valid JSON: Expected ',' or '}' after property value in JSON at position 61 (line 1 column 62)\n`,
      ],
      ['metadata missing', (d) => rmSync(join(d, 'metadata.json')), (d) => `❌ ${d}: cannot verify kernel integrity, metadata does not have a digest\n`],
      [
        'files changed',
        (d) => {
          writeFileSync(join(d, 'layers.py'), 'class ReLU:\n    evil = True\n');
          writeFileSync(join(d, 'extra.bin'), 'x');
        },
        (d) => {
          const digest = ks.Digest.fromJSON(JSON.parse(readFileSync(join(d, 'metadata.json'), 'utf8')).digest);
          return (
            `❌ ${d}: kernel integrity check failed\n` +
            `File hash mismatch for layers.py: expected: ${digest.files.get('layers.py')}, got: ${createHash('sha256').update('class ReLU:\n    evil = True\n').digest('base64')}\n` +
            'Unknown file: extra.bin\n'
          );
        },
      ],
    ];
    for (const [, breakIt, expected] of cases) {
      const dir = await signed();
      breakIt(dir);
      const { code, stdout } = await runCli(['verify', dir, ...trust, ...byIdentity()]);
      expect(code).toBe(1);
      expect(stdout).toBe(expected(dir));
    }
  });

  /** Signs metadata.json's bytes as they are, as another signer might (`sign` refuses metadata verify would reject). */
  async function signedAsIs(dir: string) {
    const bundle = await ks.signBytes(readFileSync(join(dir, 'metadata.json')), {
      method: 'keyless',
      identityToken: identityToken(githubActionsClaims(REPO)),
      fulcioURL: sigstore.url,
      rekorURL: sigstore.url,
    });
    writeFileSync(join(dir, 'metadata.json.sigstore'), ks.serializeBundle(bundle));
  }

  it('words invalid signed metadata and a missing digest as the reference does, listing every problem', async () => {
    const invalid = unsignedVariant();
    writeFileSync(join(invalid, 'metadata.json'), JSON.stringify({ ...KERNEL_METADATA, name: 'Not A Name' }));
    await signedAsIs(invalid);
    const a = await runCli(['verify', invalid, ...trust, ...byIdentity()]);
    expect(a.stdout).toBe(`❌ ${invalid}: cannot verify kernel integrity, invalid metadata:\nname "Not A Name" does not match ^[a-z][-a-z0-9]*[a-z0-9]$\n`);
    writeFileSync(join(invalid, 'metadata.json'), '{"name":"k3"}');
    await signedAsIs(invalid);
    const many = await runCli(['verify', invalid, ...trust, ...byIdentity()]);
    expect(many.stdout).toBe(
      `❌ ${invalid}: cannot verify kernel integrity, invalid metadata:\n` +
        'backend must be an object\nid must be a string (missing)\nversion must be an unsigned integer (missing)\n' +
        'license must be a string (missing)\npython-depends must be an array of strings (missing)\n',
    );

    const noDigest = unsignedVariant();
    await signedAsIs(noDigest);
    const b = await runCli(['verify', noDigest, ...trust, ...byIdentity()]);
    expect(b.stdout).toBe(`❌ ${noDigest}: cannot verify kernel integrity, metadata does not have a digest\n`);
    expect(b.code).toBe(1);
  });

  it('verifies every variant of a kernel directory, one line each, and --json prints results', async () => {
    const kernel = tempDir();
    const good = await signed();
    const bad = await signed();
    writeFileSync(join(bad, '__init__.py'), 'import os; os.system("curl evil")\n');
    mkdirSync(join(kernel, 'build'));
    cpSync(good, join(kernel, 'build', 'torch210-cxx11-cu128-x86_64-linux'), { recursive: true });
    cpSync(bad, join(kernel, 'build', 'torch29-cxx11-cu126-x86_64-linux'), { recursive: true });
    const human = await runCli(['verify', kernel, ...trust, ...byIdentity()]);
    expect(human.code).toBe(1);
    const lines = human.stdout.split('\n');
    expect(lines[0]).toBe(`✅ ${join(kernel, 'build', 'torch210-cxx11-cu128-x86_64-linux')}: kernel metadata is correctly signed; 6 files (265 kB) re-hashed`);
    expect(lines[2]).toBe(`❌ ${join(kernel, 'build', 'torch29-cxx11-cu126-x86_64-linux')}: kernel integrity check failed`);
    expect(lines[3]).toMatch(/^File hash mismatch for __init__\.py: expected: \S+, got: \S+$/);

    const json = await runCli(['verify', kernel, ...trust, ...byIdentity(), '--json']);
    expect(json.code).toBe(1);
    const { results } = JSON.parse(json.stdout);
    expect(results.map((r: { status: string }) => r.status)).toEqual(['verified', 'digest-mismatch']);
    expect(results[0]).toMatchObject({ ok: true, signer: { identity: IDENTITY }, metadata: { name: 'relu' }, digest: { algorithm: 'sha256', files: 6 } });
    expect(results[1].violations[0]).toMatchObject({ kind: 'hash-mismatch', path: '__init__.py', message: expect.stringMatching(/^File hash mismatch/) });
  });

  it('accepts a policy file and a managed key', async () => {
    const dir = await signed();
    const policyFile = join(tempDir(), 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ github: { repository: REPO, workflow: '.github/workflows/build.yaml', ref: 'refs/heads/main' } }));
    expect((await runCli(['verify', dir, ...trust, '--policy', policyFile])).code).toBe(0);
    const other = join(tempDir(), 'other.json');
    writeFileSync(other, JSON.stringify({ github: { repository: 'someone/else' } }));
    expect((await runCli(['verify', dir, ...trust, '--policy', other])).code).toBe(1);
  });

  it.each([
    [['verify'], 'expected at least one variant directory'],
    [['verify', '.', '--certificate-identity', IDENTITY], '--certificate-identity needs --certificate-oidc-issuer'],
    [['verify', '.', '--certificate-oidc-issuer', ISSUER], '--certificate-oidc-issuer needs --certificate-identity'],
    [['verify', '.', '--certificate-identity', 'a', '--certificate-identity-regexp', 'b', '--certificate-oidc-issuer', ISSUER], 'exclude each other'],
    [['verify', '.', '--policy', 'everyone'], 'neither a built-in policy (kernels-community) nor a file'],
    [['verify', '.', '--policy', 'kernels-community', '--key', 'k.pem'], 'exclude each other'],
    [['verify', '.', '--certificate-identity-regexp', '(', '--certificate-oidc-issuer', ISSUER], 'invalid regular expression'],
    [['verify-bundle', `sha256:${'ab'.repeat(32)}`, '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER], '--bundle is required for an artifact given by its digest'],
    [['verify-bundle', '--bundle', 'b.json', 'a.txt'], 'say who is trusted'],
    [['verify', '.', '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer', ISSUER], 'does not pin the signer on GitHub Actions, where anyone can sign'],
    [['verify-bundle', '--bundle', 'b.json', 'a.txt', '--certificate-identity-regexp', '.*@.*', '--certificate-oidc-issuer', 'https://accounts.google.com'], 'does not pin the signer on Google accounts'],
    [['verify-attestation', 'a.txt', '--bundle', 'b.json', '--certificate-identity-regexp', 'https://github\\.com/.*'], 'does not pin the signer on GitHub Actions'],
  ])('exits 2 on usage errors: %j', async (args, message) => {
    const { code, stderr } = await runCli(args as string[]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});

describe('a policy from the flags pins the signer on GitHub Actions', () => {
  it('an identity pattern that names nobody is refused, unless --certificate-extension names the repository', async () => {
    const dir = await signed();
    const open = ['verify', dir, ...trust, '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer', ISSUER];
    const refused = await runCli(open);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('the policy does not pin the signer on GitHub Actions, where anyone can sign');
    const pinned = await runCli([...open, '--certificate-extension', `sourceRepositoryURI=https://github.com/${REPO}`]);
    expect(pinned.stdout).toContain('✅');
    expect(pinned.code).toBe(0);
    const other = await runCli([...open, '--certificate-extension', 'sourceRepositoryURI=https://github.com/someone/else']);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain(`source repository URI (1.3.6.1.4.1.57264.1.12) is "https://github.com/${REPO}", expected "https://github.com/someone/else"`);
  });
});

describe('malformed parts of a bundle are verdicts, never a crash of the run', () => {
  const tsaSigner = () =>
    ({ method: 'keyless', identityToken: identityToken(githubActionsClaims(REPO)), fulcioURL: sigstore.url, rekorURL: sigstore.url, rekorVersion: 2, tsaURL: sigstore.tsaURL }) as const;
  /** Replaces one field of a variant's bundle, as whoever writes the directory could. */
  function editBundle(dir: string, edit: (bundle: { verificationMaterial: Record<string, any> }) => void) {
    const path = join(dir, 'metadata.json.sigstore');
    const bundle = JSON.parse(readFileSync(path, 'utf8'));
    edit(bundle);
    writeFileSync(path, JSON.stringify(bundle));
  }
  const SEQUENCE_OF_INTEGER = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x0a]).toString('base64');

  it('an RFC 3161 timestamp that is a SEQUENCE holding one INTEGER: bundle-invalid, and the next variant is still checked', async () => {
    const root = tempDir();
    const [bad, good] = ['torch210-cxx11-cu126-x86_64-linux', 'torch210-cxx11-cu128-x86_64-linux'].map((name) => join(root, name));
    for (const dir of [bad!, good!]) {
      cpSync(unsignedVariant(), dir, { recursive: true });
      await ks.signVariant(dir, { signer: tsaSigner() });
    }
    editBundle(bad!, (bundle) => (bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp = SEQUENCE_OF_INTEGER));
    const reason = expect.stringMatching(/^RFC 3161 timestamp 0 does not parse: /);
    expect(await ks.verifyVariant(bad!, { policy: ks.githubWorkflowPolicy({ repository: REPO }), trustedRoot: sigstore.parsedRoot })).toMatchObject({ status: 'bundle-invalid', reason });
    const { code, stdout, stderr } = await runCli(['verify', bad!, good!, ...trust, ...byIdentity(), '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(JSON.parse(stdout).results).toEqual([
      { subject: bad, ok: false, status: 'bundle-invalid', reason },
      expect.objectContaining({ subject: good, ok: true, status: 'verified' }),
    ]);
  });

  it('verifyBundle owns the parse too, for a Bundle made without parseBundle', async () => {
    const dir = unsignedVariant();
    await ks.signVariant(dir, { signer: tsaSigner() });
    editBundle(dir, (bundle) => (bundle.verificationMaterial.certificate.rawBytes = SEQUENCE_OF_INTEGER));
    const json = JSON.parse(readFileSync(join(dir, 'metadata.json.sigstore'), 'utf8'));
    const { bundleFromJSON } = (await import('node:module')).createRequire(import.meta.url)('@sigstore/bundle');
    const artifact = { bytes: readFileSync(join(dir, 'metadata.json')) };
    let thrown: unknown;
    try {
      ks.verifyBundle(bundleFromJSON(json), artifact, sigstore.parsedRoot, { policy: ks.githubWorkflowPolicy({ repository: REPO }) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ks.SignatureVerificationError);
    expect(thrown).toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringMatching(/^certificate 0 does not parse: /) });
  });
});
