// Variants really signed (the mock Sigstore) that a trusted publisher list trusts or refuses:
// the list as a trust anchor of verifyVariant, and `kernelseal verify --repo --publishers`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.js';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { startMockHub, type MockHub } from './helpers/mock-hub.js';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';
import { TestTufRepo, listOf } from './helpers/tuf-repo.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

const BUILDER = 'my-org/relu-kernel';
const sigstore = withMockSigstore();
const keyless = (rekorVersion: 1 | 2 = 1, repository = BUILDER) =>
  ({
    method: 'keyless',
    identityToken: identityToken(githubActionsClaims(repository)),
    fulcioURL: sigstore.url,
    rekorURL: sigstore.url,
    rekorVersion,
    tsaURL: rekorVersion === 2 ? sigstore.tsaURL : undefined,
  }) as const;

async function signedVariant(rekorVersion: 1 | 2 = 1, repository = BUILDER): Promise<string> {
  const dir = unsignedVariant();
  await ks.signVariant(dir, { signer: keyless(rekorVersion, repository) });
  return dir;
}

const policy = (repository = BUILDER) => ({ github: { repository, workflow: '.github/workflows/build.yaml', ref: 'refs/heads/main' } });
const parse = (...entries: unknown[]) => ks.parsePublisherList(JSON.stringify(listOf(...entries)), { source: 'hf://trust-org/list', version: 4 });
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

let v1: string;
let v2: string;
/** When the mock services signed (their one fixed instant), as the verified times say. */
let signedAt: number;
beforeAll(async () => {
  [v1, v2] = [await signedVariant(1), await signedVariant(2)];
  const result = await ks.verifyVariant(v1, { policy: ks.githubWorkflowPolicy({ repository: BUILDER }), trustedRoot: sigstore.parsedRoot });
  if (result.status !== 'verified') throw new Error(`the signed variant does not verify: ${JSON.stringify(result)}`);
  signedAt = Date.parse(result.signer.signedAt!);
});

const verify = (dir: string, list: ReturnType<typeof parse>, repoId = 'my-org/relu') => ks.verifyVariant(dir, { publishers: { list, repoId }, trustedRoot: sigstore.parsedRoot });

describe('verifyVariant with a publisher list', () => {
  it('verifies a variant the list trusts, naming the entry (Rekor v1 and Rekor v2 with a timestamp authority)', async () => {
    const list = parse({ repos: 'my-org/*', policy: policy(), note: 'my-org CI' });
    for (const dir of [v1, v2]) {
      const result = await verify(dir, list);
      expect(result.status).toBe('verified');
      if (result.status !== 'verified') return;
      expect(result.signer.publisher).toEqual({ repos: 'my-org/*', note: 'my-org CI', index: 0, list: 'hf://trust-org/list', listVersion: 4 });
    }
  });

  it('checks the signature against the root whose CA issued its certificate, whatever the order of the roots given', async () => {
    const list = parse({ repos: 'my-org/*', policy: policy(), note: 'my-org CI' });
    const result = await ks.verifyVariant(v1, { publishers: { list, repoId: 'my-org/relu' }, trustedRoot: [ks.pinnedGitHubTrustedRoot(), sigstore.parsedRoot] });
    expect(result).toMatchObject({ status: 'verified', signer: { publisher: { repos: 'my-org/*' } } });
  });

  it('refuses a variant of a repository the list has no entry for, and org-evil against org/*', async () => {
    const list = parse({ repos: 'my-org/*', policy: policy() });
    for (const repoId of ['other-org/relu', 'my-org-evil/relu']) {
      const result = await verify(v1, list, repoId);
      expect(result).toMatchObject({ status: 'signature-invalid', reason: expect.stringMatching(new RegExp(`the signer is not trusted: the publisher list hf://trust-org/list \\(version 4\\) has no entry for ${repoId}`)) });
    }
    expect((await verify(v1, list, 'MY-ORG/ReLU')).status).toBe('verified');
  });

  it('refuses a signer an exact entry does not allow, though org/* would', async () => {
    const list = parse({ repos: 'my-org/*', policy: policy() }, { repos: 'my-org/relu', policy: policy('my-org/release-builds') });
    const result = await verify(v1, list);
    expect(result).toMatchObject({ status: 'signature-invalid', reason: expect.stringMatching(/entry "my-org\/relu": .*the entries for my-org\/\* do not decide/) });
    expect((await verify(v1, list, 'my-org/other')).status).toBe('verified');
  });

  it('refuses a signature made at or after a revocation that an org/* entry would allow, with the time and reason', async () => {
    const list = parse({ repos: 'my-org/*', policy: policy() }, { repos: 'my-org/relu', policy: policy(), revoked: { at: iso(signedAt - 60_000), reason: 'build workflow compromised' } });
    for (const dir of [v1, v2]) {
      const result = await verify(dir, list);
      expect(result).toMatchObject({ status: 'signature-invalid' });
      expect((result as { reason: string }).reason).toMatch(/entry "my-org\/relu", revoked this signer at .* \(build workflow compromised\); signed at /);
    }
    const later = parse({ repos: 'my-org/relu', policy: policy(), revoked: { at: iso(signedAt + 60_000), reason: 'x' } });
    expect((await verify(v1, later)).status).toBe('verified');
  });

  it('checks the window against the verified signing time, on either side', async () => {
    const window = (from: number, until: number) => parse({ repos: 'my-org/*', policy: policy(), validFrom: iso(from), validUntil: iso(until) });
    expect((await verify(v1, window(signedAt - 60_000, signedAt + 60_000))).status).toBe('verified');
    expect((await verify(v2, window(signedAt - 60_000, signedAt + 60_000))).status).toBe('verified');
    expect(await verify(v1, window(signedAt + 1000, signedAt + 60_000))).toMatchObject({ status: 'signature-invalid', reason: expect.stringMatching(/before the entry's window opens/) });
    expect(await verify(v2, window(signedAt - 60_000, signedAt))).toMatchObject({ status: 'signature-invalid', reason: expect.stringMatching(/at or after the entry's window closed/) });
  });

  it('is one kind of trust: with a policy or a key it is ambiguous (a caller mistake)', async () => {
    const list = parse({ repos: 'my-org/*', policy: policy() });
    const anchor = { publishers: { list, repoId: 'my-org/relu' }, policy: ks.kernelsCommunityPolicy, trustedRoot: sigstore.parsedRoot };
    await expect(ks.verifyVariant(v1, anchor)).rejects.toThrow(/ambiguous trust: policy and publishers/);
    await expect(ks.verifyVariant(v1, { publishers: { list, repoId: 'my-org/relu' }, insecureIgnoreTlog: true, trustedRoot: sigstore.parsedRoot })).rejects.toThrow(/insecureIgnoreTlog works only with a key/);
    await expect(ks.verifyVariant(v1, { publishers: { list: { entries: 'x' }, repoId: 'my-org/relu' } as never, trustedRoot: sigstore.parsedRoot })).rejects.toThrow(TypeError);
    await expect(ks.verifyVariant(v1, { publishers: { list, repoId: 'my-org/*' }, trustedRoot: sigstore.parsedRoot })).rejects.toThrow(/not "my-org\/\*"/);
  });
});

describe('kernelseal verify --repo --publishers', () => {
  const REPO = 'datasets/trust-org/kernel-publishers';
  let hub: MockHub;
  let repo: TestTufRepo;
  let env: NodeJS.ProcessEnv;
  let root: string;
  beforeAll(async () => {
    repo = new TestTufRepo().publish(
      listOf({ repos: 'my-org/*', policy: policy(), note: 'my-org CI' }, { repos: 'my-org/revoked', policy: policy(), revoked: { at: iso(signedAt - 60_000), reason: 'workflow compromised' } }),
    );
    hub = await startMockHub([], {}, [repo.route(REPO)]);
    root = join(tempDir(), 'root.json');
    writeFileSync(root, repo.pinnedRoot);
    env = { HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_test', KERNELSEAL_STATE_DIR: tempDir('kernelseal-state-'), KERNELSEAL_PUBLISHERS: '', KERNELSEAL_PUBLISHERS_ROOT: '', HF_HUB_OFFLINE: '' };
  });
  afterAll(() => hub?.close());
  const cli = (args: string[], more: NodeJS.ProcessEnv = {}) => runCli(['verify', ...args, '--trusted-root', sigstore.trustedRootPath], { env: { ...env, ...more } });

  it('says which entry trusted the signer', async () => {
    const run = await cli([v1, '--repo', 'my-org/relu', '--publishers', `hf://${REPO}`, '--publishers-root', root]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✅ .*: kernel metadata is correctly signed[^\n]*\n   signed by .*\n   trusted by the publisher list hf:\/\/datasets\/trust-org\/kernel-publishers version 1, entry "my-org\/\*" \(my-org CI\)\n/);
  });

  it('names the revocation, with its time and reason, and exits 1', async () => {
    const run = await cli([v1, '--repo', 'my-org/revoked', '--publishers', `hf://${REPO}`, '--publishers-root', root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/❌ .*: metadata signature verification failed:\nthe signer is not trusted: the publisher list hf:\/\/datasets\/trust-org\/kernel-publishers \(version 1\), entry "my-org\/revoked", revoked this signer at .* \(workflow compromised\)/);
  });

  it('takes the list and its root from KERNELSEAL_PUBLISHERS and KERNELSEAL_PUBLISHERS_ROOT, and works offline from the cache', async () => {
    const fromEnv = { KERNELSEAL_PUBLISHERS: `hf://${REPO}`, KERNELSEAL_PUBLISHERS_ROOT: root };
    const json = await cli([v1, '--repo', 'my-org/relu', '--json'], fromEnv);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).results[0].signer.publisher).toEqual({ repos: 'my-org/*', note: 'my-org CI', index: 0, list: `hf://${REPO}`, listVersion: 1 });
    const before = hub.requests.length;
    const offline = await cli([v1, '--repo', 'my-org/relu', '--offline'], { ...fromEnv, HF_ENDPOINT: 'http://127.0.0.1:9' });
    expect(offline.code).toBe(0);
    expect(hub.requests.length).toBe(before);
  });

  it('refuses a list beside a policy, an identity, a key or a CA (flag or environment), and a list without --repo', async () => {
    const list = ['--publishers', `hf://${REPO}`, '--publishers-root', root];
    for (const other of [['--policy', 'kernels-community'], ['--key', root], ['--certificate-chain', root], ['--certificate-identity', 'x', '--certificate-oidc-issuer', 'y']]) {
      const run = await cli([v1, '--repo', 'my-org/relu', ...list, ...other]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`--publishers names a publisher list: it decides who is trusted, and excludes ${other[0]}`));
    }
    const fromEnv = await cli([v1, '--repo', 'my-org/relu', '--policy', 'kernels-community'], { KERNELSEAL_PUBLISHERS: `hf://${REPO}`, KERNELSEAL_PUBLISHERS_ROOT: root });
    expect(fromEnv).toMatchObject({ code: 2, stderr: expect.stringMatching(/KERNELSEAL_PUBLISHERS names a publisher list: it decides who is trusted, and excludes --policy/) });
    expect(await cli([v1, ...list])).toMatchObject({ code: 2, stderr: expect.stringMatching(/name the one these files come from with --repo org\/name/) });
    expect(await cli([v1, '--repo', 'my-org/relu', '--publishers', `hf://${REPO}`])).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs its pinned root/) });
    expect(await cli([v1, '--repo', 'my-org/*', ...list])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--repo my-org\/\*: a Hub repository is org\/name/) });
    expect(await cli([v1, '--repo', 'my-org/relu'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--repo names the Hub repository a publisher list decides for/) });
    // A kernel on the Hub is decided for by its own name (__test__/get-kernel-publishers.test.ts): --repo is a local variant's.
    expect(await cli(['my-org/relu@1', '--repo', 'my-org/relu', ...list])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--repo names the Hub repository of a local variant/) });
  });

  it('fails when the list cannot be used, never falling back to the default policy', async () => {
    const other = join(tempDir(), 'other-root.json');
    writeFileSync(other, new TestTufRepo().pinnedRoot);
    const run = await cli([v1, '--repo', 'my-org/relu', '--publishers', `hf://${REPO}`, '--publishers-root', other]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/kernelseal verify: hf:\/\/datasets\/trust-org\/kernel-publishers: its TUF metadata is refused: timestamp was signed by 0\/1 keys/);
    const unreachable = await cli([v1, '--repo', 'my-org/relu', '--publishers', 'hf://datasets/trust-org/missing', '--publishers-root', root]);
    expect(unreachable).toMatchObject({ code: 1, stdout: '' });
  });

  it('shows the list: version, expiry, last refresh, entries', async () => {
    const run = await runCli(['publishers', 'show', `hf://${REPO}`, '--publishers-root', root], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^hf:\/\/datasets\/trust-org\/kernel-publishers: version 1, expires \S+\n   last refreshed \S+ .*root sha256:[0-9a-f]{64} version 1\n   2 entries:\n   my-org\/\*  \(my-org CI\)\n      GitHub Actions builds of my-org\/relu-kernel/);
    expect(run.stdout).toMatch(/my-org\/revoked\n.*\n      REVOKED at .*: workflow compromised/);
    const json = JSON.parse((await runCli(['publishers', 'show', `hf://${REPO}`, '--publishers-root', root, '--json'], { env })).stdout).results[0].list;
    expect(json).toMatchObject({ location: `hf://${REPO}`, version: 1, from: 'cache', entries: [{ repos: 'my-org/*' }, { repos: 'my-org/revoked', revoked: { reason: 'workflow compromised' } }] });
  });
});
