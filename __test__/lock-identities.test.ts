import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli, testdata } from './helpers/package.js';
import { signedRepository } from './helpers/signed-repo.ts';
import { TestTufRepo, listOf } from './helpers/tuf-repo.js';

// kernels.lock records who signed each kernel (src/kernels/hub/lockfile.ts): beside "variants",
// never inside its entries, so that the kernels library still reads it; with a lock that
// records identities, a signature must be by one of them as well as satisfy the policy.

const ks = (await import(DIST)) as typeof import('../dist/index.js');
process.env.KERNELSEAL_RECEIPT_KEY_FILE = join(tempDir('kernelseal-state-'), 'receipt.key');
const REPO = 'kernels-test/relu';
const FORK = 'kernels-test/relu-fork';
const CU128 = 'torch210-cxx11-cu128-x86_64-linux';
const CU126 = 'torch210-cxx11-cu126-x86_64-linux';
const UNSIGNED = 'torch29-cxx11-cpu-x86_64-linux';
const ISSUER = 'https://token.actions.githubusercontent.com';

const sigstore = withMockSigstore();
const hubs: MockHub[] = [];
/** v1: two variants signed by REPO's CI and one not signed; v2: signed by FORK's CI. */
let refs: Record<string, string>;
const policy = () => ks.anyOf([ks.githubWorkflowPolicy({ repository: REPO }), ks.githubWorkflowPolicy({ repository: FORK })]);

beforeAll(async () => {
  refs = { v1: await signedRepository(sigstore, REPO, [CU128, CU126], { unsigned: [UNSIGNED] }), v2: await signedRepository(sigstore, FORK, [CU128], { version: 2 }) };
}, 120_000);
afterAll(async () => {
  await Promise.all(hubs.map((h) => h.close()));
});

async function hub() {
  const h = await startMockHub([{ repoId: REPO, refs }]);
  hubs.push(h);
  return h;
}

const options = (h: MockHub, extra: Record<string, unknown> = {}) => ({ endpoint: h.url, cacheDir: tempDir('kernelseal-cache-'), policy: policy(), trustedRoot: sigstore.parsedRoot, stateDir: tempDir('kernelseal-state-'), onWarning: () => {}, ...extra });
const identityOf = (repository: string) => ({
  issuer: ISSUER,
  sourceRepository: `https://github.com/${repository}`,
  workflow: `https://github.com/${repository}/.github/workflows/build.yaml@refs/heads/main`,
  ref: 'refs/heads/main',
});

/**
 * Reads a lock file by the kernels library's rules (kernels/lockfile.py, KernelLock.from_json):
 * each kernel's repo_id, sha and variants are read by name (other keys of the kernel's entry are
 * never looked at), and each variant entry becomes a VariantLock(hash, hash_type) from all of its
 * keys, so that one more key fails. Run by Python's own dataclasses, as the library runs it.
 */
function readAsReference(file: string): { status: number | null; stdout: string; stderr: string } {
  const program = `
import dataclasses, json, sys

@dataclasses.dataclass
class VariantLock:
    hash: str
    hash_type: str = "git_lfs_concat"

for entry in json.load(open(sys.argv[1])):
    variants = {name: VariantLock(**lock) for name, lock in entry["variants"].items()}
    print(entry["repo_id"], entry["sha"], ",".join(sorted(variants)))
`;
  return spawnSync('python3', ['-c', program, file], { encoding: 'utf8' });
}
const havePython = spawnSync('python3', ['-c', 'import dataclasses'], { encoding: 'utf8' }).status === 0;

describe('kernels.lock with identities', () => {
  it('writes them beside the variants, reads them back, and the reference\'s rules still read the file', async () => {
    const [reference] = await ks.readLockfile(testdata('kernels', 'relu-kernels.lock'));
    const lock = { ...reference!, identities: [identityOf(REPO)], publisherList: { rootDigest: `sha256:${'ab'.repeat(32)}`, minTargetsVersion: 3 } };
    const file = join(tempDir(), 'kernels.lock');
    await ks.writeLockfile(file, [lock]);
    const [entry] = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(entry)).toEqual(['repo_id', 'sha', 'variants', 'attestation_identities', 'publisher_list']);
    expect(entry.attestation_identities).toEqual([{ issuer: ISSUER, source_repository: `https://github.com/${REPO}`, workflow: identityOf(REPO).workflow, ref: 'refs/heads/main' }]);
    for (const variant of Object.values(entry.variants)) expect(Object.keys(variant as object).sort()).toEqual(['hash', 'hash_type']);
    expect(await ks.readLockfile(file)).toEqual([lock]);

    if (!havePython) return console.warn('skipped: no python3 to read the lock by the reference\'s rules');
    const read = readAsReference(file);
    expect(read.stderr).toBe('');
    expect(read.stdout).toBe(`${reference!.repoId} ${reference!.commit} ${Object.keys(reference!.variants).sort().join(',')}\n`);
    // The rules bite: a key of ours inside a variant entry fails them.
    entry.variants[CU128] = { ...entry.variants[Object.keys(entry.variants)[0]!], signer: 'x' };
    writeFileSync(file, JSON.stringify([entry]));
    const refused = readAsReference(file);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/TypeError: .*unexpected keyword argument 'signer'/);
  });

  it('refuses identities or a list pin it cannot read, naming where', async () => {
    const [reference] = await ks.readLockfile(testdata('kernels', 'relu-kernels.lock'));
    const file = join(tempDir(), 'kernels.lock');
    const write = (extra: Record<string, unknown>) => writeFileSync(file, JSON.stringify([{ repo_id: reference!.repoId, sha: reference!.commit, variants: {}, ...extra }]));
    write({ attestation_identities: [{ issuer: ISSUER, repository: 'x' }] });
    await expect(ks.readLockfile(file)).rejects.toMatchObject({ code: 'LOCKFILE_MISMATCH', message: expect.stringMatching(/\[0\]\.attestation_identities\[0\]: unknown key "repository"/) });
    write({ attestation_identities: [{ source_repository: 'https://github.com/x/y' }] });
    await expect(ks.readLockfile(file)).rejects.toThrow(/attestation_identities\[0\]: no issuer/);
    write({ attestation_identities: [] });
    await expect(ks.readLockfile(file)).rejects.toThrow(/a non-empty array/);
    write({ publisher_list: { root_digest: 'sha256:00', min_targets_version: 1 } });
    await expect(ks.readLockfile(file)).rejects.toThrow(/publisher_list.root_digest: sha256:<64 hex digits>/);
    write({ publisher_list: { root_digest: `sha256:${'0'.repeat(64)}`, min_targets_version: 0 } });
    await expect(ks.readLockfile(file)).rejects.toThrow(/min_targets_version: a whole number, 1 or more/);
    write({ publisher_list: { root_digest: `sha256:${'0'.repeat(64)}`, min_targets_version: 1, extra: 1 } });
    await expect(ks.readLockfile(file)).rejects.toThrow(/exactly root_digest and min_targets_version/);
  });
});

describe('a load with a lock that records identities', () => {
  it('passes with a signer the lock records and the policy trusts', async () => {
    const h = await hub();
    const listing = await new ks.HubClient({ endpoint: h.url }).revision(REPO, 'v1');
    const lock = ks.lockFromListing(REPO, listing.commit, listing.files, { identities: [identityOf(REPO)] });
    await expect(ks.getKernel(REPO, { ...options(h), lock, variant: CU128 })).resolves.toMatchObject({ verified: true, commit: listing.commit });
  });

  it('refuses a signer the policy trusts but the lock does not record, naming both', async () => {
    const h = await hub();
    const listing = await new ks.HubClient({ endpoint: h.url }).revision(REPO, 'v2');
    const lock = ks.lockFromListing(REPO, listing.commit, listing.files, { identities: [identityOf(REPO)] });
    await expect(ks.getKernel(REPO, { ...options(h), lock, variant: CU128 })).rejects.toMatchObject({
      code: 'KERNEL_UNVERIFIED',
      result: {
        status: 'signature-invalid',
        reason: expect.stringMatching(new RegExp(`^${REPO} is signed by https://github.com/${FORK} .*none of the identities the lock records: https://github.com/${REPO} \\(issuer ${ISSUER}\\)`)),
      },
    });
    // Each recorded field counts: the same repository by another workflow is another signer.
    const otherWorkflow = { ...identityOf(FORK), workflow: `https://github.com/${FORK}/.github/workflows/release.yaml@refs/heads/main` };
    const byWorkflow = ks.lockFromListing(REPO, listing.commit, listing.files, { identities: [otherWorkflow] });
    await expect(ks.getKernel(REPO, { ...options(h), lock: byWorkflow, variant: CU128 })).rejects.toMatchObject({ result: { status: 'signature-invalid' } });
    // acceptNewSigner is for the remembered signer, never for a lock: the lock is the user's own pin.
    await expect(ks.getKernel(REPO, { ...options(h), lock, variant: CU128, acceptNewSigner: true })).rejects.toMatchObject({ result: { status: 'signature-invalid' } });
  });

  it('refuses no signature, even with allowUnsigned (as under any lock: a lock names signed content)', async () => {
    const h = await hub();
    const listing = await new ks.HubClient({ endpoint: h.url }).revision(REPO, 'v1');
    const lock = ks.lockFromListing(REPO, listing.commit, listing.files, { identities: [identityOf(REPO)] });
    await expect(ks.getKernel(REPO, { ...options(h), lock, variant: UNSIGNED, allowUnsigned: true })).rejects.toMatchObject({ code: 'KERNEL_UNVERIFIED', result: { status: 'signature-missing' } });
    // A lock of the reference's (no identities) takes nothing unsigned either (src/kernels/hub/verify-trust.ts).
    const plain = ks.lockFromListing(REPO, listing.commit, listing.files);
    await expect(ks.getKernel(REPO, { ...options(h), lock: plain, variant: UNSIGNED, allowUnsigned: true })).rejects.toMatchObject({ code: 'KERNEL_UNVERIFIED', result: { status: 'signature-missing' } });
  });
});

describe('kernelseal lock', () => {
  it('locks the commit, every variant\'s hash and the identities that signed them; fetch --lockfile then holds to them', async () => {
    const h = await hub();
    const dir = tempDir();
    const file = join(dir, 'kernels.lock');
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ anyOf: [{ github: { repository: REPO } }, { github: { repository: FORK } }] }));
    const env = { HF_ENDPOINT: h.url, HF_HUB_CACHE: tempDir('kernelseal-cache-') };
    const trust = ['--trusted-root', sigstore.trustedRootPath, '--policy', policyFile];
    const locked = await runCli(['lock', `${REPO}@1`, '--lockfile', file, ...trust, '--json'], { env, cwd: dir });
    expect(locked.code, locked.stderr).toBe(0);
    const commit = h.commitOf(REPO, 'v1');
    expect(JSON.parse(locked.stdout).results).toEqual([
      { subject: `${REPO}@${commit}`, ok: true, status: 'locked', path: file, repoId: REPO, commit, variants: [CU126, CU128, UNSIGNED], identities: [identityOf(REPO)] },
    ]);
    expect(locked.stderr).toContain(`${UNSIGNED} is not signed: locked by its hash alone`);
    // Only the signed files were downloaded.
    expect(h.requests.filter((r) => r.path.includes('/resolve/')).map((r) => r.path.split('/').pop()).sort()).toEqual(['metadata.json', 'metadata.json', 'metadata.json', 'metadata.json.sigstore', 'metadata.json.sigstore']);
    const [entry] = await ks.readLockfile(file);
    expect(entry).toMatchObject({ repoId: REPO, commit, identities: [identityOf(REPO)] });

    const fetched = await runCli(['fetch', REPO, '--lockfile', file, '--variant', CU128, ...trust], { env });
    expect(fetched.code, fetched.stderr).toBe(0);

    // The file changed to name another signer: the load is refused, though the policy trusts REPO.
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json[0].attestation_identities[0].source_repository = `https://github.com/${FORK}`;
    writeFileSync(file, JSON.stringify(json));
    const refused = await runCli(['fetch', REPO, '--lockfile', file, '--variant', CU128, ...trust], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/none of the identities the lock records/);
  });

  it('with a publisher list: records its pinned root and its targets version, the lowest a later load takes', async () => {
    const LIST = 'datasets/trust-org/kernel-publishers';
    const list = new TestTufRepo().publish(listOf({ repos: 'kernels-test/*', policy: { github: { repository: REPO } }, note: 'kernels-test CI' }));
    const h = await startMockHub([{ repoId: REPO, refs }], {}, [list.route(LIST)]);
    hubs.push(h);
    const dir = tempDir();
    const root = join(dir, 'root.json');
    writeFileSync(root, list.pinnedRoot);
    const file = join(dir, 'kernels.lock');
    const env = { HF_ENDPOINT: h.url, KERNELSEAL_STATE_DIR: tempDir('kernelseal-state-'), KERNELSEAL_PUBLISHERS: '', KERNELSEAL_PUBLISHERS_ROOT: '' };
    const args = ['lock', `${REPO}@1`, '--lockfile', file, '--trusted-root', sigstore.trustedRootPath, '--publishers', `hf://${LIST}`, '--publishers-root', root];
    const run = await runCli([...args, '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    const opened = await ks.openPublisherList({ list: `hf://${LIST}`, root, stateDir: tempDir(), hub: { endpoint: h.url } });
    expect(JSON.parse(run.stdout).results[0]).toMatchObject({ status: 'locked', identities: [identityOf(REPO)], publisherList: { rootDigest: opened.rootDigest, minTargetsVersion: opened.version } });
    expect(JSON.parse(readFileSync(file, 'utf8'))[0].publisher_list).toEqual({ root_digest: opened.rootDigest, min_targets_version: 1 });
    // A list excludes the other ways of saying who is trusted, as in verify.
    expect(await runCli([...args, '--policy', 'kernels-community'], { env })).toMatchObject({ code: 2, stderr: expect.stringMatching(/--publishers names a publisher list: it decides who is trusted, and excludes --policy/) });
    // A load under the lock takes that list, its root and no older targets version, or none.
    const [lock] = await ks.readLockfile(file);
    const publishers = { list: `hf://${LIST}`, root, stateDir: tempDir('kernelseal-state-') };
    const load = (extra: Record<string, unknown>) => ks.getKernel(REPO, { endpoint: h.url, cacheDir: tempDir('kernelseal-cache-'), trustedRoot: sigstore.parsedRoot, stateDir: tempDir('kernelseal-state-'), variant: CU128, onWarning: () => {}, ...extra });
    await expect(load({ lock, publishers })).resolves.toMatchObject({ verified: true, commit: lock!.commit });
    const newer = { ...lock!, publisherList: { ...lock!.publisherList!, minTargetsVersion: 2 } };
    await expect(load({ lock: newer, publishers })).rejects.toMatchObject({ name: 'PublisherListError', code: 'LIST_ROLLBACK', message: expect.stringMatching(/targets version 1 is older than version 2, the lowest the lock allows/) });
    const otherRoot = { ...lock!, publisherList: { ...lock!.publisherList!, rootDigest: `sha256:${'ab'.repeat(32)}` } };
    await expect(load({ lock: otherRoot, publishers })).rejects.toMatchObject({ name: 'PublisherListError', code: 'LIST_ROOT_MISMATCH' });
    await expect(load({ lock, policy: policy() })).rejects.toThrow(new ks.LockfileError(`the lock of ${REPO} was made with a trusted publisher list (root ${opened.rootDigest}, targets version 1 or later): load it with that list (publishers, --publishers)`));
    // A list opened beforehand is held to the same pin.
    await expect(load({ lock, publishers: { list: opened } })).resolves.toMatchObject({ verified: true });
    await expect(load({ lock: newer, publishers: { list: opened } })).rejects.toThrow(`the lock of ${REPO} allows its publisher list from targets version 2; the list given is version 1`);
    // The CLI: fetch --lockfile with the list; without it, a failure naming the list the lock asks for.
    const fetchArgs = ['fetch', REPO, '--variant', CU128, '--lockfile', file, '--trusted-root', sigstore.trustedRootPath];
    const fetchEnv = { ...env, HF_HUB_CACHE: tempDir() };
    expect(await runCli([...fetchArgs, '--publishers', `hf://${LIST}`, '--publishers-root', root], { env: fetchEnv })).toMatchObject({ code: 0 });
    expect(await runCli([...fetchArgs, '--policy', 'kernels-community'], { env: fetchEnv })).toMatchObject({ code: 1, stderr: expect.stringMatching(/kernelseal fetch: the lock of kernels-test\/relu was made with a trusted publisher list/) });
    // Re-locking on a machine that has never seen the list takes no older list than the lock names: nothing is written.
    const raised = readFileSync(file, 'utf8').replace('"min_targets_version": 1', '"min_targets_version": 2');
    writeFileSync(file, raised);
    const relock = await runCli(args, { env: { ...env, KERNELSEAL_STATE_DIR: tempDir('kernelseal-state-') } });
    expect(relock).toMatchObject({ code: 1, stderr: expect.stringMatching(/targets version 1 is older than version 2, the lowest the lock allows/) });
    expect(readFileSync(file, 'utf8')).toBe(raised);
  });

  it('writes nothing when a signature does not verify', async () => {
    const h = await hub();
    const dir = tempDir();
    const file = join(dir, 'kernels.lock');
    const env = { HF_ENDPOINT: h.url };
    const run = await runCli(['lock', `${REPO}@2`, '--lockfile', file, '--trusted-root', sigstore.trustedRootPath, '--certificate-oidc-issuer', ISSUER, '--certificate-identity', identityOf(REPO).workflow, '--json'], { env });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).results[0]).toMatchObject({ ok: false, status: 'signature-invalid' });
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
    // Offline there is no Hub to read: a usage error, and not one request.
    const before = h.requests.length;
    const offline = await runCli(['lock', `${REPO}@1`, '--lockfile', file, '--trusted-root', sigstore.trustedRootPath], { env: { ...env, HF_HUB_OFFLINE: '1' } });
    expect(offline).toMatchObject({ code: 2, stderr: expect.stringMatching(/cannot run offline \(HF_HUB_OFFLINE\)/) });
    expect(h.requests.length).toBe(before);
  });
});
