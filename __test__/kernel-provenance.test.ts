import { beforeAll, describe, expect, it } from 'vitest';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { githubActionsClaims, githubActionsJobEnv, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli, testdata } from './helpers/package.js';
import { KERNEL_METADATA, unsignedVariant } from './helpers/variant.js';

// Provenance for kernels: `sign --provenance` in a GitHub Actions job against the mock
// Sigstore, `verify --provenance` with the same policy; and the source metadata.json states
// (kernel-builder's "provenance", as in fixtures/kernels/legacy-sha-provenance.metadata.json)
// held against the source the signing certificate names.

const REPO = 'my-org/relu-kernel';
const MAIN_SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'; // what githubActionsClaims signs as `sha`
const PR_SHA = '0123456789abcdef0123456789abcdef01234567';
const NO_AMBIENT = { SIGSTORE_ID_TOKEN: '', ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '', BUILDKITE: '' };
const JOB = githubActionsJobEnv(REPO, 'build.yaml', 'refs/heads/main', MAIN_SHA);
const NOT_GITHUB = Object.fromEntries(Object.keys(JOB).map((name) => [name, '']));

const sigstore = withMockSigstore();
let policy: string;
beforeAll(() => {
  policy = join(tempDir(), 'policy.json');
  writeFileSync(policy, JSON.stringify({ github: { repository: REPO, workflow: '.github/workflows/build.yaml', ref: 'refs/heads/main' } }));
});

/** A variant in a kernel's build/ whose metadata.json states its source as kernel-builder does. */
function variantBuiltFrom(commit: string | undefined, dirty = false): string {
  const variant = unsignedVariant();
  const kernel = join(tempDir(), 'relu');
  mkdirSync(join(kernel, 'build'), { recursive: true });
  const dir = join(kernel, 'build', 'torch210-cxx11-cu128-x86_64-linux');
  renameSync(variant, dir);
  const provenance = commit === undefined ? {} : { provenance: { 'kernel-builder': { version: '0.17.0', sha: 'd0610aa58db33b142c86b59598a2a1c730f52996', dirty: false }, kernel: { sha: commit, dirty } } };
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...KERNEL_METADATA, ...provenance }, null, 2));
  return dir;
}

const sign = (target: string, env: Record<string, string> = JOB, ...flags: string[]) =>
  runCli(['sign', target, '--identity-token', identityToken(githubActionsClaims(REPO)), '--fulcio-url', sigstore.url, '--rekor-url', sigstore.url, ...flags], { env: { ...NO_AMBIENT, ...env } });
const verify = (target: string, ...flags: string[]) => runCli(['verify', target, '--trusted-root', sigstore.trustedRootPath, '--policy', policy, '--json', ...flags]);

describe('kernelseal sign --provenance, verify --provenance', () => {
  it('round-trips: SLSA v1 provenance of the job whose subject is metadata.json, beside the variant, verified with the same policy', async () => {
    const dir = variantBuiltFrom(MAIN_SHA);
    const signed = await sign(dir, JOB, '--provenance');
    expect(signed.code, signed.stdout + signed.stderr).toBe(0);
    const provenancePath = `${dir}.provenance.sigstore.json`;
    expect(signed.stdout).toContain(`   provenance: ${provenancePath}\n`);
    const bundle = JSON.parse(readFileSync(provenancePath, 'utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    expect(statement.subject).toEqual([{ name: 'metadata.json', digest: { sha256: createHash('sha256').update(readFileSync(join(dir, 'metadata.json'))).digest('hex') } }]);
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.predicate.buildDefinition.resolvedDependencies).toEqual([{ uri: `git+https://github.com/${REPO}@refs/heads/main`, digest: { gitCommit: MAIN_SHA } }]);
    // sigstore-js's own verifier accepts what was written.
    new Verifier(toTrustMaterial(TrustedRoot.fromJSON(sigstore.trustedRoot))).verify(toSignedEntity(bundleFromJSON(bundle)));

    // The kernel directory stands for its variant; the provenance beside it is no variant of its own.
    const verified = await verify(dirname(dirname(dir)), '--provenance');
    expect(verified.code, verified.stdout).toBe(0);
    const [result] = JSON.parse(verified.stdout).results;
    expect(result).toMatchObject({ status: 'verified', provenance: { path: provenancePath, facts: { sourceDigest: MAIN_SHA, workflowPath: '.github/workflows/build.yaml', builderId: 'https://github.com/actions/runner/github-hosted' } } });
    const text = await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--policy', policy, '--provenance']);
    expect(text.stdout).toContain(`     built from https://github.com/${REPO} @ ${MAIN_SHA} (refs/heads/main) by .github/workflows/build.yaml, builder https://github.com/actions/runner/github-hosted, run https://github.com/${REPO}/actions/runs/42/attempts/1`);
  });

  it('verify --provenance fails without it, with it changed, or for another metadata.json', async () => {
    const dir = variantBuiltFrom(MAIN_SHA);
    expect((await sign(dir)).code).toBe(0);
    const missing = await verify(dir, '--provenance');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).results[0]).toMatchObject({ status: 'provenance-invalid', reason: `no provenance: ${dir}.provenance.sigstore.json not found (kernelseal sign --provenance writes it)` });
    // Without --provenance nothing is asked of it.
    expect((await verify(dir)).code).toBe(0);

    // The provenance of another build of the same variant does not vouch for this metadata.json.
    const other = variantBuiltFrom(MAIN_SHA);
    writeFileSync(join(other, 'layers.py'), 'class ReLU:\n    other = True\n');
    expect((await sign(other, JOB, '--provenance')).code).toBe(0);
    writeFileSync(`${dir}.provenance.sigstore.json`, readFileSync(`${other}.provenance.sigstore.json`));
    const swapped = await verify(dir, '--provenance');
    expect(swapped.code).toBe(1);
    expect(JSON.parse(swapped.stdout).results[0].reason).toContain("no subject of the in-toto statement carries the artifact's digest");
  });

  it('verifyAndCopyVariant asks for the provenance as verifyVariant does: refused without it, nothing copied; verified with its facts', async () => {
    const ks = (await import(DIST)) as typeof import('../dist/index.js');
    const options = { policy: await ks.readPolicyFile(policy), trustedRoot: await ks.readTrustedRoot(sigstore.trustedRootPath), provenance: true, into: tempDir() };
    const dir = variantBuiltFrom(MAIN_SHA);
    expect((await sign(dir)).code).toBe(0);
    const missing = await ks.verifyAndCopyVariant(dir, options);
    expect(missing).toMatchObject({ status: 'provenance-invalid', source: dir, path: dir, reason: `no provenance: ${dir}.provenance.sigstore.json not found (kernelseal sign --provenance writes it)` });
    expect(readdirSync(options.into)).toEqual([]);
    expect(missing).toEqual({ ...(await ks.verifyVariant(dir, options)), source: dir });

    expect((await sign(dir, JOB, '--provenance')).code).toBe(0);
    const copied = await ks.verifyAndCopyVariant(dir, options);
    expect(copied).toMatchObject({ status: 'verified', source: dir, provenance: { path: `${dir}.provenance.sigstore.json`, facts: { sourceDigest: MAIN_SHA, workflowPath: '.github/workflows/build.yaml' } } });
    expect(copied.path).not.toBe(dir);
  });

  it('outside GitHub Actions --provenance is a usage error, and nothing is signed or written', async () => {
    const dir = variantBuiltFrom(MAIN_SHA);
    const before = readFileSync(join(dir, 'metadata.json'));
    const { code, stderr } = await sign(dir, NOT_GITHUB, '--provenance');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--provenance: build provenance is made inside GitHub Actions only: GITHUB_ACTIONS, /);
    expect(readFileSync(join(dir, 'metadata.json'))).toEqual(before);
    expect(existsSync(join(dir, 'metadata.json.sigstore'))).toBe(false);
  });
});

describe("the source metadata.json states, against the signer's", () => {
  it("a pull request's build signed with the main branch's identity fails, naming both commits", async () => {
    const dir = variantBuiltFrom(PR_SHA);
    expect((await sign(dir)).code).toBe(0);
    const { code, stdout } = await verify(dir);
    expect(code).toBe(1);
    const [result] = JSON.parse(stdout).results;
    expect(result.status).toBe('source-mismatch');
    expect(result.reason).toBe(
      `metadata.json says the kernel was built from commit ${PR_SHA} (provenance.kernel.sha), but the signing certificate's source repository digest (1.3.6.1.4.1.57264.1.13) is ${MAIN_SHA} (refs/heads/main): the files were built from other source than the run that signed them`,
    );
    const text = await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--policy', policy]);
    expect(text.stdout).toContain(`❌ ${dir}: the signed metadata's source is not the signer's:\n`);
    // Asked for, a warning instead, and the variant verifies.
    const warned = await runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--policy', policy, '--allow-source-mismatch']);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toContain(`⚠️  ${dir}: source mismatch kept (--allow-source-mismatch): metadata.json says the kernel was built from commit ${PR_SHA}`);
  });

  it('a build of uncommitted changes fails; the same commit, or no stated source, verifies', async () => {
    const dirty = variantBuiltFrom(MAIN_SHA, true);
    expect((await sign(dirty)).code).toBe(0);
    expect(JSON.parse((await verify(dirty)).stdout).results[0]).toMatchObject({ status: 'source-mismatch', reason: expect.stringMatching(/^metadata.json says the kernel was built from uncommitted changes/) });
    for (const commit of [MAIN_SHA, MAIN_SHA.toUpperCase(), undefined]) {
      const dir = variantBuiltFrom(commit);
      expect((await sign(dir)).code).toBe(0);
      expect((await verify(dir)).code).toBe(0);
    }
  });

  it("reads kernel-builder's provenance as it writes it (real metadata)", async () => {
    const ks = await import('../dist/kernels/source-provenance.js');
    const metadata = JSON.parse(readFileSync(testdata('kernels', 'legacy-sha-provenance.metadata.json'), 'utf8'));
    expect(ks.statedSource(metadata)).toEqual({ commit: 'd45addadb0c380f3d7cc2813310b3bcd75f8aa9a', dirty: false, builderVersion: '0.17.0-dev0' });
    const signer = { method: 'certificate' as const, commit: 'd45addadb0c380f3d7cc2813310b3bcd75f8aa9a' };
    expect(ks.sourceMismatch(metadata, signer)).toBeUndefined();
    expect(ks.sourceMismatch(metadata, { ...signer, commit: MAIN_SHA })).toMatch(/built from commit d45addadb0c380f3d7cc2813310b3bcd75f8aa9a/);
    // A key (or an e-mail identity) names no source: nothing to compare.
    expect(ks.sourceMismatch(metadata, { method: 'key' })).toBeUndefined();
  });

  // kernels-community's sign-old-builds signs builds earlier runs made: its run's commit is not
  // their source. Its own policy declares it a re-signer; nothing else is one.
  const COMMUNITY = 'huggingface/kernels-community';
  const signAs = (dir: string, workflow: string) =>
    runCli(['sign', dir, '--identity-token', identityToken(githubActionsClaims(COMMUNITY, workflow)), '--fulcio-url', sigstore.url, '--rekor-url', sigstore.url], { env: { ...NO_AMBIENT, ...NOT_GITHUB } });
  const verifyCommunity = (dir: string, ...flags: string[]) => runCli(['verify', dir, '--trusted-root', sigstore.trustedRootPath, '--policy', 'kernels-community', ...flags]);

  it("a re-signer the policy declares (kernels-community's sign-old-builds) is not compared on source, and the ✅ line says so", async () => {
    const dir = variantBuiltFrom(PR_SHA);
    expect((await signAs(dir, 'sign-old-builds.yaml')).code).toBe(0);
    const text = await verifyCommunity(dir);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    const resigner = `https://github.com/${COMMUNITY}/.github/workflows/sign-old-builds.yaml@refs/heads/main`;
    const line = `the signer ${resigner} re-signs builds other runs made (so the policy declares): the source metadata.json states was not compared with its run's`;
    expect(text.stdout).toMatch(new RegExp(`^✅ ${dir}: kernel metadata is correctly signed`));
    expect(text.stdout).toContain(`\n   source not compared: ${line}\n`);
    const [result] = JSON.parse((await verifyCommunity(dir, '--json')).stdout).results;
    expect(result).toMatchObject({ status: 'verified', sourceNotCompared: line });
    // The library says the same.
    const ks = (await import(DIST)) as typeof import('../dist/index.js');
    const verified = await ks.verifyVariant(dir, { policy: ks.kernelsCommunityPolicy, trustedRoot: await ks.readTrustedRoot(sigstore.trustedRootPath) });
    expect(verified).toMatchObject({ status: 'verified', sourceNotCompared: line });
  });

  it("the same build signed by a build workflow of the same repository is compared, and fails; a user's own policy declares no re-signer", async () => {
    const dir = variantBuiltFrom(PR_SHA);
    expect((await signAs(dir, 'build.yaml')).code).toBe(0);
    const refused = await verifyCommunity(dir, '--json');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).results[0]).toMatchObject({ status: 'source-mismatch', reason: expect.stringMatching(new RegExp(`^metadata.json says the kernel was built from commit ${PR_SHA}`)) });
    // sign-old-builds under a policy file that trusts it, but declares nothing: compared, refused.
    const resigned = variantBuiltFrom(PR_SHA);
    expect((await signAs(resigned, 'sign-old-builds.yaml')).code).toBe(0);
    const own = join(tempDir(), 'policy.json');
    writeFileSync(own, JSON.stringify({ github: { repository: COMMUNITY, workflow: '.github/workflows/sign-old-builds.yaml', ref: 'refs/heads/main' } }));
    const compared = await runCli(['verify', resigned, '--trusted-root', sigstore.trustedRootPath, '--policy', own, '--json']);
    expect(JSON.parse(compared.stdout).results[0]).toMatchObject({ status: 'source-mismatch' });
  });

  it('a re-signer declaration names one workflow exactly, and allOf and anyOf keep it', async () => {
    const ks = (await import(DIST)) as typeof import('../dist/index.js');
    const { resignedBy } = await import('../dist/kernels/source-provenance.js');
    const resigner = `https://github.com/${COMMUNITY}/.github/workflows/sign-old-builds.yaml@refs/heads/main`;
    expect(ks.kernelsCommunityPolicy.resigners).toEqual([resigner]);
    const signer = { method: 'certificate' as const, workflow: resigner, commit: MAIN_SHA };
    for (const policy of [ks.kernelsCommunityPolicy, ks.allOf([ks.kernelsCommunityPolicy]), ks.anyOf([ks.kernelsCommunityPolicy, ks.githubWorkflowPolicy({ repository: REPO })])]) {
      expect(resignedBy(signer, policy)).toMatch(/re-signs builds other runs made/);
    }
    for (const workflow of [`${resigner}x`, resigner.replace('refs/heads/main', 'refs/heads/pr'), resigner.toUpperCase(), undefined]) {
      expect(resignedBy({ ...signer, workflow }, ks.kernelsCommunityPolicy)).toBeUndefined();
    }
    expect(resignedBy(signer, ks.githubWorkflowPolicy({ repository: COMMUNITY }))).toBeUndefined();
    expect(resignedBy(signer, undefined)).toBeUndefined();
  });
});
