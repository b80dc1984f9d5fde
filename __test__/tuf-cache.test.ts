// The trusted root's TUF refresh uses its cache while the cached metadata is unexpired: a normal
// run asks nothing. A TUF repository of our own (one ed25519 key for every role) is served on
// 127.0.0.1 and counts requests; its root.json is placed in the cache as the client's trust.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { DIST, ROOT } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

/** Canonical JSON (keys sorted, no spaces) for the strings, numbers and booleans used here. */
const canonical = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(canonical).join(',')}]`
    : typeof value === 'object' && value !== null
      ? `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
      : JSON.stringify(value);

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const key = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex') } };
const keyid = createHash('sha256').update(canonical(key)).digest('hex');
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');

function signed(role: string, version: number, expires: string, body: Record<string, unknown>): string {
  const content = { _type: role, spec_version: '1.0.31', version, expires, ...body };
  return JSON.stringify({ signed: content, signatures: [{ keyid, sig: sign(null, Buffer.from(canonical(content)), privateKey).toString('hex') }] });
}

const trustedRoot = readFileSync(join(ROOT, 'trust', 'public-good.trusted_root.json'));
const roles = Object.fromEntries(['root', 'timestamp', 'snapshot', 'targets'].map((role) => [role, { keyids: [keyid], threshold: 1 }]));
const root = signed('root', 1, inDays(365), { keys: { [keyid]: key }, roles, consistent_snapshot: false });
const timestamp = (version: number, expires: string) => signed('timestamp', version, expires, { meta: { 'snapshot.json': { version: 1 } } });
const repo: Record<string, string | Buffer> = {
  '/timestamp.json': timestamp(2, inDays(7)),
  '/snapshot.json': signed('snapshot', 1, inDays(30), { meta: { 'targets.json': { version: 1 } } }),
  '/targets.json': signed('targets', 1, inDays(90), {
    targets: { 'trusted_root.json': { length: trustedRoot.length, hashes: { sha256: createHash('sha256').update(trustedRoot).digest('hex') } } },
  }),
  '/targets/trusted_root.json': trustedRoot,
};

let server: Server;
let mirrorURL: string;
const requests: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = repo[req.url ?? ''];
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mirrorURL = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => server.close());

/** A cache holding only our root.json for the mirror: what the client trusts to begin with. */
function seededCache(): { cachePath: string; repoDir: string } {
  const cachePath = tempDir();
  const repoDir = join(cachePath, encodeURIComponent(new URL(mirrorURL).host));
  mkdirSync(join(repoDir, 'targets'), { recursive: true });
  writeFileSync(join(repoDir, 'root.json'), root);
  return { cachePath, repoDir };
}

describe('TUF refresh of the trusted root', () => {
  it('asks the mirror once, then serves from the unexpired cache with no request', async () => {
    const { cachePath } = seededCache();
    const warnings: string[] = [];
    const refresh = () => ks.publicGoodTrustedRoot({ mirrorURL, cachePath, onWarning: (w) => warnings.push(w) });
    const before = requests.length;
    const first = await refresh();
    expect(warnings).toEqual([]);
    expect(first.source).toBe('tuf');
    expect(first.trustedRoot).toEqual(ks.pinnedTrustedRoot());
    expect(requests.slice(before)).toEqual(expect.arrayContaining(['/timestamp.json', '/snapshot.json', '/targets.json', '/targets/trusted_root.json']));

    const after = requests.length;
    const second = await refresh();
    expect(second.source).toBe('tuf');
    expect(second.trustedRoot).toEqual(first.trustedRoot);
    expect(requests.slice(after)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('refreshes from the mirror once a cached role has expired', async () => {
    const { cachePath, repoDir } = seededCache();
    await ks.publicGoodTrustedRoot({ mirrorURL, cachePath });
    // A correctly signed, older timestamp that expired yesterday: the cache is stale.
    writeFileSync(join(repoDir, 'timestamp.json'), timestamp(1, inDays(-1)));
    const before = requests.length;
    const refreshed = await ks.publicGoodTrustedRoot({ mirrorURL, cachePath, onWarning: (w) => expect.fail(w) });
    expect(refreshed.source).toBe('tuf');
    expect(requests.slice(before)).toContain('/timestamp.json');
    expect(JSON.parse(readFileSync(join(repoDir, 'timestamp.json'), 'utf8')).signed.version).toBe(2);
    const after = requests.length;
    await ks.publicGoodTrustedRoot({ mirrorURL, cachePath });
    expect(requests.slice(after)).toEqual([]);
  });

  it('a cached role whose signature does not hold is never trusted: the refresh goes to the mirror', async () => {
    const { cachePath, repoDir } = seededCache();
    await ks.publicGoodTrustedRoot({ mirrorURL, cachePath });
    const forged = JSON.parse(readFileSync(join(repoDir, 'timestamp.json'), 'utf8'));
    forged.signed.version = 3; // unexpired, but no longer what the key signed
    writeFileSync(join(repoDir, 'timestamp.json'), JSON.stringify(forged));
    const before = requests.length;
    const refreshed = await ks.publicGoodTrustedRoot({ mirrorURL, cachePath });
    expect(refreshed.source).toBe('tuf');
    expect(requests.slice(before)).toContain('/timestamp.json');
  });
});
