// getKernel, `fetch` and `verify org/name@N` with a trusted publisher list as their trust stage
// (docs/publishers.md; docs/architecture.md, "A load from the Hub"): the mock Hub serves the
// kernel and the list's TUF repository (helpers/tuf-repo.ts), the mock Sigstore signs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.js';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { startMockHub, type MockHub } from './helpers/mock-hub.js';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';
import { TestTufRepo, listOf } from './helpers/tuf-repo.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
// Receipts are keyed with a file outside the cache (src/kernels/hub/receipt-key.ts): one per test file, not the user's.
process.env.KERNELSEAL_RECEIPT_KEY_FILE = join(tempDir('kernelseal-state-'), 'receipt.key');

const REPO = 'my-org/relu';
const BUILDER = 'my-org/relu-kernel';
const VARIANT = 'torch210-cxx11-cu128-x86_64-linux';
const LIST = 'datasets/trust-org/kernel-publishers';
const OTHER_LIST = 'datasets/trust-org/other-publishers';
const sigstore = withMockSigstore();
const policy = (repository = BUILDER) => ({ github: { repository, workflow: '.github/workflows/build.yaml', ref: 'refs/heads/main' } });

let hub: MockHub;
let root: string;
let otherRoot: string;
/** The paths of the kernel's files the Hub was asked for, past the signed two. */
const filesFetched = (from: number) =>
  hub.requests
    .slice(from)
    .map((r) => r.path)
    .filter((path) => path.includes(`/${REPO}/resolve/`) && !/metadata\.json(\.sigstore)?$/.test(path));

beforeAll(async () => {
  const repoDir = tempDir('kernelseal-hub-repo-');
  const dir = join(repoDir, 'build', VARIANT);
  cpSync(unsignedVariant(), dir, { recursive: true });
  await ks.signVariant(dir, { signer: { method: 'keyless', identityToken: identityToken(githubActionsClaims(BUILDER)), fulcioURL: sigstore.url, rekorURL: sigstore.url } });
  const list = new TestTufRepo().publish(listOf({ repos: 'my-org/*', policy: policy(), note: 'my-org CI' }));
  // A list that trusts someone else for my-org/relu: an exact entry decides, org/* does not.
  const other = new TestTufRepo().publish(listOf({ repos: 'my-org/*', policy: policy() }, { repos: REPO, policy: policy('my-org/release-builds'), note: 'release builds only' }));
  hub = await startMockHub([{ repoId: REPO, refs: { v1: repoDir, main: repoDir } }], {}, [list.route(LIST), other.route(OTHER_LIST)]);
  root = join(tempDir(), 'root.json');
  writeFileSync(root, list.pinnedRoot);
  otherRoot = join(tempDir(), 'other-root.json');
  writeFileSync(otherRoot, other.pinnedRoot);
}, 120_000);
afterAll(() => hub?.close());

const loadOptions = (extra: Record<string, unknown> = {}) => ({
  endpoint: hub.url,
  cacheDir: tempDir('kernelseal-cache-'),
  trustedRoot: sigstore.parsedRoot,
  version: 1,
  variant: VARIANT,
  onWarning: () => {},
  ...extra,
});
const listOptions = (list = LIST, pinned = root) => ({ list: `hf://${list}`, root: pinned, stateDir: tempDir('kernelseal-state-') });

describe('getKernel with a trusted publisher list', () => {
  it('verifies with the list alone, naming the entry that trusted the signer', async () => {
    const kernel = await ks.getKernel(REPO, loadOptions({ publishers: listOptions() }));
    expect(kernel.verified).toBe(true);
    expect(kernel.signer?.publisher).toEqual({ repos: 'my-org/*', note: 'my-org CI', index: 0, list: `hf://${LIST}`, listVersion: 1 });
  });

  it('refuses a signer the list does not trust for the repository, before the files past the signed two are fetched', async () => {
    const before = hub.requests.length;
    const error = await ks.getKernel(REPO, loadOptions({ publishers: listOptions(OTHER_LIST, otherRoot) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ks.KernelRefusedError);
    expect(error).toMatchObject({ code: 'KERNEL_UNVERIFIED', result: { status: 'signature-invalid', reason: expect.stringMatching(/the signer is not trusted: the publisher list hf:\/\/datasets\/trust-org\/other-publishers \(version 1\) does not trust this signer for my-org\/relu: entry "my-org\/relu" \(release builds only\)/) } });
    expect(filesFetched(before)).toEqual([]);
  });

  it('fails when the list cannot be used, never falling back to the default policy, and asks the Hub nothing of the kernel', async () => {
    const before = hub.requests.length;
    const error = await ks.getKernel(REPO, loadOptions({ publishers: listOptions(LIST, otherRoot) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ks.PublisherListError);
    expect(error).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/its TUF metadata is refused/) });
    expect(hub.requests.slice(before).filter((r) => r.path.includes(REPO))).toEqual([]);
  });

  it('takes a list given with a policy, a key or a CA, or with the log waived, for the caller\'s mistake', async () => {
    const before = hub.requests.length;
    const publishers = listOptions();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ policy: ks.kernelsCommunityPolicy }, /ambiguous trust: publishers and policy given together/],
      [{ key: 'x' }, /ambiguous trust: publishers and key given together/],
      [{ certificateChain: 'x' }, /ambiguous trust: publishers and certificateChain given together/],
      [{ insecureIgnoreTlog: true }, /insecureIgnoreTlog works only with a key or a private CA chain: a publisher list/],
      [{ publishers: { list: `hf://${LIST}` } }, /publishers must name a list and its pinned root/],
    ];
    for (const [extra, message] of cases) await expect(ks.getKernel(REPO, loadOptions({ publishers, ...extra }))).rejects.toThrow(new RegExp(`^${message.source}`));
    for (const [extra] of cases) expect((await ks.getKernel(REPO, loadOptions({ publishers, ...extra })).catch((e: unknown) => e)) instanceof TypeError).toBe(true);
    expect(hub.requests.length).toBe(before);
  });

  it('takes a list already opened, for the repository it loads', async () => {
    const opened = await ks.openPublisherList({ ...listOptions(), hub: { endpoint: hub.url } });
    const kernel = await ks.getKernel(REPO, loadOptions({ publishers: { list: opened } }));
    expect(kernel.signer?.publisher).toMatchObject({ repos: 'my-org/*', listVersion: 1 });
    await expect(ks.getKernel(REPO, loadOptions({ publishers: { list: opened, repoId: 'my-org/other' } }))).rejects.toThrow(new TypeError(`publishers.repoId "my-org/other" is not the repository loaded (${REPO})`));
  });

  it('offline, loads from the cache with the cached list: no request at all', async () => {
    const options = loadOptions({ publishers: listOptions() });
    await ks.getKernel(REPO, options);
    const before = hub.requests.length;
    const kernel = await ks.getKernel(REPO, { ...options, offline: true });
    expect(kernel).toMatchObject({ verified: true, fromReceipt: true, revisionSource: 'cache' });
    expect(kernel.signer?.publisher).toMatchObject({ repos: 'my-org/*' });
    expect(hub.requests.length).toBe(before);
  });
});

describe('kernelseal fetch and verify <repo>@<version> with a publisher list', () => {
  const env = () => ({
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: tempDir('kernelseal-cache-'),
    KERNELSEAL_STATE_DIR: tempDir('kernelseal-state-'),
    KERNELSEAL_PUBLISHERS: '',
    KERNELSEAL_PUBLISHERS_ROOT: '',
    HF_HUB_OFFLINE: '',
  });
  const list = () => ['--publishers', `hf://${LIST}`, '--publishers-root', root];
  const trusted = /trusted by the publisher list hf:\/\/datasets\/trust-org\/kernel-publishers version 1, entry "my-org\/\*" \(my-org CI\)/;

  it('fetch: the ✅ names the entry; the list comes from the flags or from KERNELSEAL_PUBLISHERS', async () => {
    const fetched = await runCli(['fetch', REPO, '--version', '1', '--variant', VARIANT, ...list(), '--trusted-root', sigstore.trustedRootPath], { env: env() });
    expect(fetched.code).toBe(0);
    expect(fetched.stderr).toMatch(new RegExp(`✅ ${REPO}@v1 ${VARIANT}: kernel metadata is correctly signed[^\\n]*\\n   signed by [^\\n]*\\n   ${trusted.source}\\n`));
    const fromEnv = await runCli(['fetch', REPO, '--version', '1', '--variant', VARIANT, '--trusted-root', sigstore.trustedRootPath, '--json'], {
      env: { ...env(), KERNELSEAL_PUBLISHERS: `hf://${LIST}`, KERNELSEAL_PUBLISHERS_ROOT: root },
    });
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout).results[0].signer.publisher).toEqual({ repos: 'my-org/*', note: 'my-org CI', index: 0, list: `hf://${LIST}`, listVersion: 1 });
  });

  it('verify org/name@1: the ✅ names the entry; a signer the list does not trust fails, naming the entry', async () => {
    const verified = await runCli(['verify', `${REPO}@1`, '--variant', VARIANT, ...list(), '--trusted-root', sigstore.trustedRootPath], { env: env() });
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(trusted);
    const refused = await runCli(['verify', `${REPO}@1`, '--variant', VARIANT, '--publishers', `hf://${OTHER_LIST}`, '--publishers-root', otherRoot, '--trusted-root', sigstore.trustedRootPath], { env: env() });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/❌ .*: metadata signature verification failed:\nthe signer is not trusted: the publisher list hf:\/\/datasets\/trust-org\/other-publishers \(version 1\) does not trust this signer for my-org\/relu: entry "my-org\/relu" \(release builds only\)/);
  });

  it('refuses a list beside a policy, a key or a CA (flag or environment): a usage error, nothing fetched', async () => {
    const before = hub.requests.length;
    for (const command of [['fetch', REPO, '--version', '1'], ['verify', `${REPO}@1`]]) {
      for (const other of [['--policy', 'kernels-community'], ['--key', root], ['--certificate-chain', root]]) {
        const run = await runCli([...command, '--variant', VARIANT, ...list(), ...other], { env: env() });
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(new RegExp(`--publishers names a publisher list: it decides who is trusted, and excludes ${other[0]}`));
      }
      const fromEnv = await runCli([...command, '--variant', VARIANT, '--policy', 'kernels-community'], { env: { ...env(), KERNELSEAL_PUBLISHERS: `hf://${LIST}`, KERNELSEAL_PUBLISHERS_ROOT: root } });
      expect(fromEnv).toMatchObject({ code: 2, stderr: expect.stringMatching(/KERNELSEAL_PUBLISHERS names a publisher list: it decides who is trusted, and excludes --policy/) });
    }
    expect(hub.requests.length).toBe(before);
  });

  it('fails when the list cannot be used, never falling back to the default policy', async () => {
    for (const command of [['fetch', REPO, '--version', '1'], ['verify', `${REPO}@1`]]) {
      const run = await runCli([...command, '--variant', VARIANT, '--publishers', `hf://${LIST}`, '--publishers-root', otherRoot, '--trusted-root', sigstore.trustedRootPath], { env: env() });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/hf:\/\/datasets\/trust-org\/kernel-publishers: its TUF metadata is refused/);
      expect(run.stderr).not.toMatch(/✅/);
    }
  });
});
