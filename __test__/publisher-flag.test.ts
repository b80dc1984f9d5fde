import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.ts';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.ts';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';
import { unsignedVariant } from './helpers/variant.js';

// Parity with the kernels library: under the default policy only, getKernel reads the Hub's
// trustedKernelPublisher flag for the organisation before any download
// (src/kernels/hub/publisher-flag.ts). It only narrows trust.

const ks = (await import(DIST)) as typeof import('../dist/index.js');
process.env.KERNELSEAL_RECEIPT_KEY_FILE = join(tempDir('kernelseal-state-'), 'receipt.key');
const REPO = 'kernels-community/relu';
const VARIANT = 'torch210-cxx11-cu128-x86_64-linux';

const sigstore = withMockSigstore();
const hubs: MockHub[] = [];
let repoDir: string;

beforeAll(async () => {
  // Signed as the default policy wants it: huggingface/kernels-community's build workflow on main.
  repoDir = tempDir('kernelseal-hub-repo-');
  const variant = join(repoDir, 'build', VARIANT);
  cpSync(unsignedVariant(), variant, { recursive: true });
  await ks.signVariant(variant, { signer: { method: 'keyless', identityToken: identityToken(githubActionsClaims('huggingface/kernels-community')), fulcioURL: sigstore.url, rekorURL: sigstore.url } });
}, 120_000);
afterAll(async () => {
  await Promise.all(hubs.map((h) => h.close()));
});

async function hub() {
  const h = await startMockHub([{ repoId: REPO, refs: { v1: repoDir } }]);
  hubs.push(h);
  return h;
}
const options = (h: MockHub, extra: Record<string, unknown> = {}) => ({ endpoint: h.url, cacheDir: tempDir('kernelseal-cache-'), trustedRoot: sigstore.parsedRoot, stateDir: tempDir('kernelseal-state-'), version: 1, variant: VARIANT, onWarning: () => {}, ...extra });
const asked = (h: MockHub) => h.requests.filter((r) => r.path === '/api/organizations/kernels-community/overview').length;
const downloads = (h: MockHub) => h.requests.filter((r) => !r.path.startsWith('/api/organizations/')).length;

describe("the Hub's trustedKernelPublisher flag", () => {
  it('is read under the default policy, before anything else, and a flagged organisation loads', async () => {
    const h = await hub();
    await expect(ks.getKernel(REPO, options(h))).resolves.toMatchObject({ verified: true });
    expect(asked(h)).toBe(1);
    expect(h.requests[0]!.path).toBe('/api/organizations/kernels-community/overview');
  });

  it('refuses an organisation the Hub does not flag, or one the Hub cannot answer for, before any download', async () => {
    const h = await hub();
    h.organizations['kernels-community'] = { trustedKernelPublisher: false };
    await expect(ks.getKernel(REPO, options(h))).rejects.toMatchObject({ code: 'PUBLISHER_UNTRUSTED', message: expect.stringMatching(/kernels-community is not a trusted kernel publisher on the Hub; set trustRemoteCode/) });
    h.organizations['kernels-community'] = {}; // no flag: as the kernels library reads it, not trusted
    await expect(ks.getKernel(REPO, options(h))).rejects.toMatchObject({ code: 'PUBLISHER_UNTRUSTED' });
    h.organizations['kernels-community'] = { trustedKernelPublisher: 'yes' };
    await expect(ks.getKernel(REPO, options(h))).rejects.toMatchObject({ code: 'PUBLISHER_UNTRUSTED', message: expect.stringMatching(/could not learn from the Hub .*not true or false/) });
    delete h.organizations['kernels-community'];
    await expect(ks.getKernel(REPO, options(h))).rejects.toMatchObject({ code: 'PUBLISHER_UNTRUSTED', message: expect.stringMatching(/could not learn from the Hub whether kernels-community is a trusted kernel publisher \(kernels-community: no such organisation/) });
    expect(downloads(h)).toBe(0);
    // A busy Hub is asked again within the deadline, then refused: never a fall back to loading.
    h.organizations['kernels-community'] = { trustedKernelPublisher: true };
    h.faults.busy = { path: '/api/organizations/', times: 100, status: 503, retryAfter: '0' };
    await expect(ks.getKernel(REPO, options(h, { timeoutMs: 2000, attempts: 2 }))).rejects.toMatchObject({ code: 'PUBLISHER_UNTRUSTED', message: expect.stringMatching(/is busy \(503/) });
    expect(downloads(h)).toBe(0);
  });

  it('trustRemoteCode skips the flag, never the signature', async () => {
    const h = await hub();
    h.organizations['kernels-community'] = { trustedKernelPublisher: false };
    await expect(ks.getKernel(REPO, options(h, { trustRemoteCode: true }))).resolves.toMatchObject({ verified: true });
    expect(asked(h)).toBe(0);
    // The signature is still the default policy's: another signer is refused.
    const other = tempDir('kernelseal-hub-repo-');
    const variant = join(other, 'build', VARIANT);
    cpSync(unsignedVariant(), variant, { recursive: true });
    await ks.signVariant(variant, { signer: { method: 'keyless', identityToken: identityToken(githubActionsClaims('someone/else')), fulcioURL: sigstore.url, rekorURL: sigstore.url } });
    const forged = await startMockHub([{ repoId: REPO, refs: { v1: other } }]);
    hubs.push(forged);
    await expect(ks.getKernel(REPO, options(forged, { trustRemoteCode: true }))).rejects.toMatchObject({ code: 'KERNEL_UNVERIFIED', result: { status: 'signature-invalid' } });
  });

  it('is not read with an explicit policy, a key, a lock or offline (offline: with a warning)', async () => {
    const h = await hub();
    h.organizations['kernels-community'] = { trustedKernelPublisher: false };
    await expect(ks.getKernel(REPO, options(h, { policy: ks.kernelsCommunityPolicy }))).resolves.toMatchObject({ verified: true });
    const listing = await new ks.HubClient({ endpoint: h.url }).revision(REPO, 'v1');
    await expect(ks.getKernel(REPO, options(h, { lock: ks.lockFromListing(REPO, listing.commit, listing.files) }))).resolves.toMatchObject({ verified: true });
    expect(asked(h)).toBe(0);
    // Offline: the cache of an earlier load, no request at all.
    const cacheDir = tempDir('kernelseal-cache-');
    await ks.getKernel(REPO, options(h, { cacheDir, trustRemoteCode: true }));
    const before = h.requests.length;
    const warnings: string[] = [];
    await expect(ks.getKernel(REPO, options(h, { cacheDir, offline: true, onWarning: (m: string) => warnings.push(m) }))).resolves.toMatchObject({ verified: true });
    expect(h.requests.length).toBe(before);
    expect(warnings).toEqual([expect.stringMatching(/^offline: not asking the Hub whether kernels-community is a trusted kernel publisher/)]);
  });

  it('the CLI: fetch with no trust flags reads it; --trust-remote-code skips it; --policy is explicit', async () => {
    const h = await hub();
    h.organizations['kernels-community'] = { trustedKernelPublisher: false };
    const env = { HF_ENDPOINT: h.url, HF_HUB_CACHE: tempDir('kernelseal-cache-') };
    const args = ['fetch', REPO, '--version', '1', '--variant', VARIANT, '--trusted-root', sigstore.trustedRootPath];
    const refused = await runCli([...args, '--json'], { env });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, error: { code: 'PUBLISHER_UNTRUSTED', message: expect.stringMatching(/--trust-remote-code/) } });
    expect((await runCli([...args, '--trust-remote-code'], { env })).code).toBe(0);
    expect((await runCli([...args, '--policy', 'kernels-community'], { env })).code).toBe(0);
  });
});
