import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { DIST, ROOT, internal, runCli, testdata } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const { PINNED_TRUSTED_ROOT_PATH } = (await import(internal('sigstore/trusted-root.js'))) as typeof import('../dist/sigstore/trusted-root.js');
const publicGood = () => JSON.parse(readFileSync(testdata('trust', 'public-good-trusted_root.json'), 'utf8'));

describe('trusted roots', () => {
  it('pins the public-good root exactly as @sigstore/tuf seeds it', () => {
    const require = createRequire(join(ROOT, 'package.json'));
    const seeds = JSON.parse(readFileSync(require.resolve('@sigstore/tuf/seeds.json'), 'utf8'));
    const seeded = Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev'].targets['trusted_root.json'], 'base64');
    // Upgrading @sigstore/tuf fails this until `node scripts/pin-trusted-root.mjs` re-pins.
    expect(readFileSync(PINNED_TRUSTED_ROOT_PATH)).toEqual(seeded);
    expect(readFileSync(PINNED_TRUSTED_ROOT_PATH)).toEqual(readFileSync(testdata('trust', 'public-good-trusted_root.json')));
    const root = ks.pinnedTrustedRoot();
    expect(root.tlogs.map((t) => t.baseUrl)).toEqual(['https://rekor.sigstore.dev', 'https://log2025-1.rekor.sigstore.dev']);
  });

  it('reads every trusted root of the conformance suite and the staging root', async () => {
    await expect(ks.readTrustedRoot(testdata('trust', 'staging-trusted_root.json'))).resolves.toBeDefined();
    await expect(ks.readTrustedRoot(testdata('sigstore-conformance', 'rekor2-happy-path', 'trusted_root.json'))).resolves.toBeDefined();
  });

  it('reads the trusted root inside a client trust config', async () => {
    const root = await ks.readTrustedRoot(testdata('sigstore-bundles', 'tsa-test', 'trust_config.json'));
    expect(root.timestampAuthorities).toHaveLength(1);
  });

  const mutate = (edit: (root: ReturnType<typeof publicGood>) => void) => {
    const root = publicGood();
    edit(root);
    return () => ks.parseTrustedRoot(root, 'edited root');
  };

  it.each([
    ['a transparency log key without a validity start', (r: any) => delete r.tlogs[0].publicKey.validFor.start, /tlogs\[0\]\.publicKey has no validity start/],
    ['a CT log key without a validity', (r: any) => delete r.ctlogs[1].publicKey.validFor, /ctlogs\[1\]\.publicKey has no validity start/],
    ['a CA without a validity start', (r: any) => delete r.certificateAuthorities[1].validFor.start, /certificateAuthorities\[1\] has no validity start/],
    ['a TSA without certificates', (r: any) => (r.timestampAuthorities[0].certChain.certificates = []), /timestampAuthorities\[0\] has no certificates/],
    ['a key that does not parse', (r: any) => (r.tlogs[0].publicKey.rawBytes = 'AAAA'), /does not parse/],
    ['a key without a type', (r: any) => delete r.tlogs[0].publicKey.keyDetails, /has no key type/],
    ['a log without an ID', (r: any) => delete r.tlogs[0].logId, /has no log ID/],
    ['an end before the start', (r: any) => (r.tlogs[0].publicKey.validFor.end = '2020-01-01T00:00:00Z'), /validity end before its start/],
    ['an unknown media type', (r: any) => (r.mediaType = 'application/json'), /unsupported media type/],
    ['a certificate that does not parse', (r: any) => (r.certificateAuthorities[0].certChain.certificates[0].rawBytes = 'AAAA'), /does not parse/],
  ])('refuses %s', (_name, edit, message) => {
    expect(mutate(edit)).toThrow(message);
  });

  it('--offline never touches the network, and a failed refresh falls back with a warning', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const mirror = `http://127.0.0.1:${port}`;
    const cache = tempDir();
    // Give the TUF client the public-good root.json for this mirror, so that it goes to ask.
    const require = createRequire(join(ROOT, 'package.json'));
    const seeds = JSON.parse(readFileSync(require.resolve('@sigstore/tuf/seeds.json'), 'utf8'));
    const repo = join(cache, encodeURIComponent(`127.0.0.1:${port}`));
    mkdirSync(join(repo, 'targets'), { recursive: true });
    writeFileSync(join(repo, 'root.json'), Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev']['root.json'], 'base64'));
    try {
      const offline = await ks.publicGoodTrustedRoot({ offline: true, mirrorURL: mirror, cachePath: cache });
      expect(offline.source).toBe('pinned');
      expect(requests).toBe(0);
      const warnings: string[] = [];
      const refreshed = await ks.publicGoodTrustedRoot({ mirrorURL: mirror, cachePath: cache, onWarning: (w) => warnings.push(w) });
      expect(refreshed.source).toBe('pinned');
      expect(refreshed.trustedRoot).toBe(ks.pinnedTrustedRoot());
      expect(warnings).toEqual([expect.stringContaining(`could not refresh the trusted root from ${mirror}`)]);
      expect(requests).toBeGreaterThan(0);

      // The CLI says so on stderr; with --offline it says nothing and asks nothing.
      const bundle = testdata('sigstore-bundles', 'production', 'bundle_v3_github.whl.sigstore');
      const digest = 'sha256:c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201';
      const args = ['verify-bundle', '--bundle', bundle, '--policy', 'kernels-community', digest];
      const env = { KERNELSEAL_TUF_MIRROR: mirror, KERNELSEAL_TUF_CACHE: cache };
      const before = requests;
      const quiet = await runCli([...args, '--offline'], { env });
      expect(quiet.stderr).toBe('');
      expect(requests).toBe(before);
      const noisy = await runCli(args, { env });
      expect(noisy.stderr).toContain('kernelseal: warning: could not refresh the trusted root');
      expect(requests).toBeGreaterThan(before);
    } finally {
      server.close();
    }
  });

  it('a malformed --trusted-root file is a usage error naming it', async () => {
    const file = join(tempDir(), 'root.json');
    const root = publicGood();
    delete root.tlogs[0].publicKey.validFor.start;
    writeFileSync(file, JSON.stringify(root));
    const { code, stderr } = await runCli(['verify', '.', '--trusted-root', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}: tlogs[0].publicKey has no validity start`);
  });
});
