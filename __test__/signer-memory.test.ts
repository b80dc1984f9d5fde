import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, internal, runCli } from './helpers/package.js';
import { signedRepository } from './helpers/signed-repo.ts';

// Where neither a publisher list nor a lock decides, the first verified signer of a repository is
// remembered in the user's state folder, and a change is refused until accepted
// (src/kernels/hub/signer-continuity.ts, SECURITY.md "A signer that changes").

const ks = (await import(DIST)) as typeof import('../dist/index.js');
process.env.KERNELSEAL_RECEIPT_KEY_FILE = join(tempDir('kernelseal-state-'), 'receipt.key');
const REPO = 'kernels-test/relu';
const OTHER_SOURCE = 'kernels-test/relu-fork';
const VARIANT = 'torch210-cxx11-cu128-x86_64-linux';

const sigstore = withMockSigstore();
const hubs: MockHub[] = [];
/** v1 signed by REPO's CI, v2 by another repository of the same organisation, v3 not signed. */
let refs: Record<string, string>;
// A policy broad enough for both signers, as an organisation-wide one is.
const policy = () => ks.anyOf([ks.githubWorkflowPolicy({ repository: REPO }), ks.githubWorkflowPolicy({ repository: OTHER_SOURCE })]);

beforeAll(async () => {
  refs = { v1: await signedRepository(sigstore, REPO, [VARIANT]), v2: await signedRepository(sigstore, OTHER_SOURCE, [VARIANT], { version: 2 }), v3: await signedRepository(sigstore, REPO, [], { unsigned: [VARIANT], version: 3 }) };
}, 120_000);
afterAll(async () => {
  await Promise.all(hubs.map((h) => h.close()));
});

async function hub() {
  const h = await startMockHub([{ repoId: REPO, refs }]);
  hubs.push(h);
  return h;
}

const options = (h: MockHub, stateDir: string, extra: Record<string, unknown> = {}) => ({
  endpoint: h.url,
  cacheDir: tempDir('kernelseal-cache-'),
  policy: policy(),
  trustedRoot: sigstore.parsedRoot,
  variant: VARIANT,
  stateDir,
  onWarning: () => {},
  ...extra,
});

describe('a signer change', () => {
  it('is refused, with the signers named, until it is accepted; then the new signer is the one remembered', async () => {
    const h = await hub();
    const state = tempDir('kernelseal-signers-');
    const first = await ks.getKernel(REPO, { ...options(h, state), version: 1 });
    expect(first.signer?.sourceRepository).toBe(`https://github.com/${REPO}`);

    const refused = await ks.getKernel(REPO, { ...options(h, state), version: 2 }).then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(ks.KernelRefusedError);
    const result = (refused as InstanceType<typeof ks.KernelRefusedError>).result;
    expect(result?.status).toBe('signature-invalid');
    expect(result && 'reason' in result && result.reason).toMatch(
      new RegExp(`is signed by https://github.com/${OTHER_SOURCE} \\(issuer https://token.actions.githubusercontent.com\\), but its signer was https://github.com/${REPO} .*--accept-new-signer`),
    );
    // Refused before the rest of the variant was downloaded.
    expect(h.requests.filter((r) => r.path.includes('/resolve/') && r.path.endsWith('_ops.py')).length).toBe(1);

    const warnings: string[] = [];
    const accepted = await ks.getKernel(REPO, { ...options(h, state), version: 2, acceptNewSigner: true, onWarning: (m: string) => warnings.push(m) });
    expect(accepted.signer?.sourceRepository).toBe(`https://github.com/${OTHER_SOURCE}`);
    expect(warnings.join('\n')).toMatch(/accepted a new signer/);
    // Accepted once, remembered: v2 loads without the option, and v1's signer is now the change.
    await expect(ks.getKernel(REPO, { ...options(h, state), version: 2 })).resolves.toMatchObject({ verified: true });
    await expect(ks.getKernel(REPO, { ...options(h, state), version: 1 })).rejects.toMatchObject({ result: { status: 'signature-invalid', reason: expect.stringMatching(/a signer change is refused/) } });
  });

  it('includes no signature where there was one (allowUnsigned does not hide it)', async () => {
    const h = await hub();
    const state = tempDir('kernelseal-signers-');
    await ks.getKernel(REPO, { ...options(h, state), version: 1 });
    await expect(ks.getKernel(REPO, { ...options(h, state), version: 3, allowUnsigned: true })).rejects.toMatchObject({
      result: { status: 'signature-invalid', reason: expect.stringMatching(new RegExp(`^${REPO} is not signed, but its signer was https://github.com/${REPO} `)) },
    });
    const unsigned = await ks.getKernel(REPO, { ...options(h, state), version: 3, allowUnsigned: true, acceptNewSigner: true });
    expect(unsigned.verified).toBe(false);
    // Accepted: nothing is remembered any more, so the next verified signer is the first again.
    expect(readdirSync(join(state, 'signers'))).toEqual([]);
    await expect(ks.getKernel(REPO, { ...options(h, state), version: 2 })).resolves.toMatchObject({ verified: true });
  });

  it('of two first loads at once, by different signers, lets exactly one through', async () => {
    const h = await hub();
    const state = tempDir('kernelseal-signers-');
    const outcomes = await Promise.allSettled([ks.getKernel(REPO, { ...options(h, state), version: 1 }), ks.getKernel(REPO, { ...options(h, state), version: 2 })]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ result: { status: 'signature-invalid', reason: expect.stringMatching(/a signer change is refused/) } });
    expect(readdirSync(join(state, 'signers'))).toEqual(['kernels--kernels-test--relu.json']);
    // What decides it, played in order: a first record never replaces one another load made.
    const memory = (await import(internal('kernels/hub/signer-memory.js'))) as typeof import('../dist/kernels/hub/signer-memory.js');
    const fresh = tempDir('kernelseal-signers-');
    const signer = (repository: string) => ({ method: 'certificate' as const, issuer: 'https://token.actions.githubusercontent.com', sourceRepository: `https://github.com/${repository}` });
    expect(await memory.rememberSigner(REPO, 'kernel', signer(REPO), 'first', fresh)).toBe(true);
    expect(await memory.rememberSigner(REPO, 'kernel', signer(OTHER_SOURCE), 'first', fresh)).toBe(false);
    expect(await memory.recallSigner(REPO, 'kernel', fresh)).toMatchObject({ sourceRepository: `https://github.com/${REPO}` });
  });

  it('is not asked with a lock: the lock decides who signs', async () => {
    const h = await hub();
    const state = tempDir('kernelseal-signers-');
    await ks.getKernel(REPO, { ...options(h, state), version: 1 });
    const listing = await new ks.HubClient({ endpoint: h.url }).revision(REPO, 'v2');
    const lock = ks.lockFromListing(REPO, listing.commit, listing.files);
    await expect(ks.getKernel(REPO, { ...options(h, state), lock })).resolves.toMatchObject({ verified: true, commit: listing.commit });
    // ... and what it loaded is not remembered in place of the first signer.
    await expect(ks.getKernel(REPO, { ...options(h, state), version: 2 })).rejects.toMatchObject({ result: { status: 'signature-invalid' } });
  });

  it('is remembered in a file written atomically, yours alone, in a folder no one else may write', async () => {
    const h = await hub();
    const state = tempDir('kernelseal-signers-');
    await ks.getKernel(REPO, { ...options(h, state), version: 1 });
    const dir = join(state, 'signers');
    const file = join(dir, 'kernels--kernels-test--relu.json');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['kernels--kernels-test--relu.json']); // no temporary file left
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ schema: 'kernelseal/first-signer/v1', repoId: REPO, issuer: 'https://token.actions.githubusercontent.com', sourceRepository: `https://github.com/${REPO}` });

    // A folder others may write is refused, naming it: whoever can write it can make kernelseal forget.
    chmodSync(dir, 0o777);
    await expect(ks.getKernel(REPO, { ...options(h, state), version: 1 })).rejects.toMatchObject({ code: 'SIGNER_MEMORY_INVALID', message: expect.stringMatching(/may be written by others \(mode 777\)/) });
    chmodSync(dir, 0o700);
    // A folder another user owns is refused as well (as root: CI runs as root).
    if (process.getuid?.() === 0) {
      chownSync(dir, 65534, 65534);
      await expect(ks.getKernel(REPO, { ...options(h, state), version: 1 })).rejects.toMatchObject({ code: 'SIGNER_MEMORY_INVALID', message: expect.stringMatching(/belongs to another user \(uid 65534\)/) });
      chownSync(dir, 0, 0);
    } else console.warn('skipped: not root, so no folder of another user to plant');
    // A damaged record is refused, never read as "no signer yet".
    writeFileSync(file, '{"schema": "kernelseal/first-signer/v1"');
    await expect(ks.getKernel(REPO, { ...options(h, state), version: 2 })).rejects.toMatchObject({ code: 'SIGNER_MEMORY_INVALID', message: expect.stringMatching(/delete it to start over/) });
  });

  it('is asked under a policy from flags, and the CLI takes --accept-new-signer (exit 1, then 0)', async () => {
    const h = await hub();
    const state = tempDir('kernelseal-signers-');
    const env = { HF_ENDPOINT: h.url, KERNELSEAL_STATE_DIR: state, HF_HUB_CACHE: tempDir('kernelseal-cache-') };
    const trust = ['--trusted-root', sigstore.trustedRootPath, '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', '--certificate-identity-regexp', '^https://github\\.com/kernels-test/relu(-fork)?/\\.github/workflows/build\\.yaml@refs/heads/main$'];
    const first = await runCli(['fetch', REPO, '--version', '1', '--variant', VARIANT, ...trust], { env });
    expect(first.code, first.stderr).toBe(0);
    const refused = await runCli(['fetch', REPO, '--version', '2', '--variant', VARIANT, ...trust, '--json'], { env });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stdout).toMatch(/a signer change is refused until you accept it \(--accept-new-signer/);
    const accepted = await runCli(['fetch', REPO, '--version', '2', '--variant', VARIANT, ...trust, '--accept-new-signer'], { env });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stderr).toMatch(/accepted a new signer/);
  });
});
