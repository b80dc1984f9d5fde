// The maintainer commands (`kernelseal publishers init|add|remove|revoke|sign|rotate-key|check`)
// round-trip: a list made with kernelseal alone, uploaded to the mock Hub, and a client that
// verifies a really signed variant against it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, MetadataKind, Signature, type Root } from '@tufjs/models';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { join } from 'node:path';
import { githubActionsClaims, identityToken } from './helpers/mock-sigstore.js';
import { withMockSigstore } from './helpers/with-mock-sigstore.ts';
import { startMockHub, type MockHub } from './helpers/mock-hub.js';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';
import { folderRoute } from './helpers/tuf-repo.js';
import { unsignedVariant } from './helpers/variant.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

const BUILDER = 'my-org/relu-kernel';
const HUB_REPO = 'datasets/trust-org/kernel-publishers';
const sigstore = withMockSigstore();

let hub: MockHub;
let work: string;
let dir: string;
let keys: string;
let env: NodeJS.ProcessEnv;
let variant: string;
beforeAll(async () => {
  work = tempDir('kernelseal-maintainer-');
  dir = join(work, 'list');
  keys = join(work, 'keys');
  hub = await startMockHub([], {}, [folderRoute(HUB_REPO, dir)]);
  env = { HF_ENDPOINT: hub.url, KERNELSEAL_STATE_DIR: tempDir('kernelseal-state-'), KERNELSEAL_PUBLISHERS: '', KERNELSEAL_PUBLISHERS_ROOT: '', HF_HUB_OFFLINE: '' };
  variant = unsignedVariant();
  await ks.signVariant(variant, { signer: { method: 'keyless', identityToken: identityToken(githubActionsClaims(BUILDER)), fulcioURL: sigstore.url, rekorURL: sigstore.url } });
});
afterAll(() => hub?.close());

const cli = (...args: string[]) => runCli(['publishers', ...args], { env });
const verify = (repo: string, more: NodeJS.ProcessEnv = {}) =>
  runCli(['verify', variant, '--repo', repo, '--publishers', `hf://${HUB_REPO}`, '--publishers-root', join(dir, 'metadata', '1.root.json'), '--trusted-root', sigstore.trustedRootPath], { env: { ...env, ...more } });

describe('a list made with kernelseal alone', () => {
  it('init: keys outside the folder, an empty list signed, a root key never online', async () => {
    expect(await cli('init', dir, '--keys', join(dir, 'keys'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/the keys folder .* is inside .*: keep private keys elsewhere/) });
    expect(existsSync(join(dir, 'keys'))).toBe(false);
    const run = await cli('init', dir, '--keys', keys, '--root-keys', '3', '--root-threshold', '2', '--timestamp-expires', '2d');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/a new publisher list \(root version 1, 2 of 3 root keys to sign a root\)/);
    const pems = readdirSync(keys).filter((name) => name.endsWith('.pem'));
    expect(pems.map((name) => name.split('-')[0]).sort()).toEqual(['online', 'root', 'root', 'root', 'targets']);
    for (const pem of pems) expect(statSync(join(keys, pem)).mode & 0o777).toBe(0o600);
    const root = JSON.parse(readFileSync(join(dir, 'metadata', '1.root.json'), 'utf8')).signed;
    expect(root.consistent_snapshot).toBe(true);
    expect(root.roles.root.keyids.filter((id: string) => [...root.roles.timestamp.keyids, ...root.roles.snapshot.keyids].includes(id))).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'publishers-signing.json'), 'utf8')).expires.timestamp).toBe('2d');
    expect(await cli('init', dir, '--keys', join(work, 'keys2'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/is not empty/) });
  });

  it('add, sign, check: a client verifies a variant against it, naming the entry', async () => {
    const add = await cli('add', dir, '--repos', 'my-org/*', '--github', BUILDER, '--workflow', '.github/workflows/build.yaml', '--ref', 'refs/heads/main', '--note', 'my-org CI');
    expect(add).toMatchObject({ code: 0, stdout: expect.stringMatching(/added my-org\/\* \(not signed yet/) });
    expect(await cli('add', dir, '--repos', 'MY-ORG/*', '--github', BUILDER)).toMatchObject({ code: 2, stderr: expect.stringMatching(/has an entry for it already/) });
    const policy = join(work, 'builtin.json');
    writeFileSync(policy, JSON.stringify({ builtin: 'kernels-community' }));
    expect(await cli('add', dir, '--repos', 'other/*', '--policy', policy)).toMatchObject({ code: 2, stderr: expect.stringMatching(/"builtin" is not allowed here/) });
    // Not signed yet: a client does not see it.
    expect((await cli('check', dir)).stdout).toMatch(/no entries: it trusts no publisher[\s\S]*kernel-publishers.json has changes not signed yet/);
    const signed = await cli('sign', dir, '--keys', keys);
    expect(signed).toMatchObject({ code: 0, stdout: expect.stringMatching(/signed\n   targets   version 2, .*\n   snapshot  version 2, .*\n   timestamp version 2, /) });
    expect((await cli('sign', dir, '--keys', keys)).stdout).toMatch(/nothing needed signing/);
    const check = await cli('check', dir);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/version 2, expires .*\n[\s\S]*1 entry:\n   my-org\/\*  \(my-org CI\)\n      GitHub Actions builds of my-org\/relu-kernel by \.github\/workflows\/build\.yaml at refs\/heads\/main\n[\s\S]*✅ .*: a client accepts this list/);
    const run = await verify('my-org/relu');
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/trusted by the publisher list hf:\/\/datasets\/trust-org\/kernel-publishers version 2, entry "my-org\/\*" \(my-org CI\)/);
    expect(run.code).toBe(0);
  });

  it('revoke: the next refresh refuses the signer, naming the time and the reason', async () => {
    expect(await cli('revoke', dir, '--repos', 'my-org/*', '--reason', 'workflow compromised', '--at', '2020-01-01T00:00:00Z')).toMatchObject({ code: 0 });
    expect(await cli('sign', dir, '--keys', keys)).toMatchObject({ code: 0 });
    // Within the refresh interval the client keeps the list it has (the delay README states).
    expect((await verify('my-org/relu')).code).toBe(0);
    const state = join(env.KERNELSEAL_STATE_DIR!, 'publishers');
    const record = join(state, readdirSync(state)[0]!, 'state.json');
    const json = JSON.parse(readFileSync(record, 'utf8'));
    writeFileSync(record, JSON.stringify({ ...json, lastRefresh: new Date(Date.now() - 2 * 3_600_000).toISOString() }));
    const run = await verify('my-org/relu');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/entry "my-org\/\*" \(my-org CI\), revoked this signer at 2020-01-01T00:00:00.000Z \(workflow compromised\)/);
    expect(await cli('remove', dir, '--repos', 'my-org/*')).toMatchObject({ code: 0 });
    expect(await cli('remove', dir, '--repos', 'my-org/*')).toMatchObject({ code: 2, stderr: expect.stringMatching(/no such entry/) });
    await cli('add', dir, '--repos', 'my-org/relu', '--github', BUILDER, '--note', 'relu only');
    expect(await cli('sign', dir, '--keys', keys)).toMatchObject({ code: 0 });
  });

  it('rotate-key: the online key, then a root key; a client pinned to version 1 follows', async () => {
    const online = await cli('rotate-key', dir, '--keys', keys, '--role', 'timestamp');
    expect(online).toMatchObject({ code: 0, stdout: expect.stringMatching(/replaced by .* for snapshot, timestamp\n   root      version 2, .*\n   snapshot  version \d+, .*\n   timestamp version \d+, .*\n   the old key's file is now .*retired\/online-/) });
    expect(await cli('rotate-key', dir, '--keys', keys, '--role', 'root')).toMatchObject({ code: 2, stderr: expect.stringMatching(/root has 3 keys .*: name one with --key/) });
    const root = JSON.parse(readFileSync(join(dir, 'metadata', '2.root.json'), 'utf8')).signed;
    const rootKey = root.roles.root.keyids[0] as string;
    expect(await cli('rotate-key', dir, '--keys', keys, '--key', rootKey.slice(0, 12))).toMatchObject({ code: 0, stdout: expect.stringMatching(/for root\n   root      version 3/) });
    const check = await cli('check', dir, '--root', join(dir, 'metadata', '1.root.json'));
    expect(check).toMatchObject({ code: 0, stdout: expect.stringMatching(/root sha256:[0-9a-f]{64} version 3/) });
    // A fresh machine: its client walks the roots from version 1.
    const run = await verify('my-org/relu', { KERNELSEAL_STATE_DIR: tempDir('kernelseal-state-') });
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/entry "my-org\/relu" \(relu only\)/) });
  });

  it('sign needs a threshold of keys: nothing half-signed without them', async () => {
    const few = join(work, 'few-keys');
    cpSync(keys, few, { recursive: true });
    for (const name of readdirSync(few).filter((n) => n.startsWith('root-')).slice(1)) rmSync(join(few, name));
    const before = readdirSync(join(dir, 'metadata')).sort();
    const run = await cli('sign', dir, '--keys', few, '--role', 'root');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the old root wants 2 of its root keys \([0-9a-f, ]+\); .*few-keys holds 1/);
    expect(readdirSync(join(dir, 'metadata')).sort()).toEqual(before);
    // The targets key but not the online key: the list is signed in memory, the snapshot cannot
    // be, and nothing at all is written.
    const copy = join(work, 'half');
    cpSync(dir, copy, { recursive: true });
    for (const name of readdirSync(few).filter((n) => n.startsWith('online-'))) rmSync(join(few, name));
    await cli('add', copy, '--repos', 'half/*', '--github', 'half/builds');
    const listing = () => [...readdirSync(join(copy, 'metadata')), ...readdirSync(join(copy, 'targets'))].sort();
    const files = listing();
    const half = await cli('sign', copy, '--keys', few);
    expect(half).toMatchObject({ code: 1, stderr: expect.stringMatching(/snapshot wants 1 of its keys/) });
    expect(listing()).toEqual(files);
  });

  it('the scheduled job (examples/github-actions/publishers-refresh.yml): the online key alone re-signs a due timestamp, and fails on an unsigned edit', async () => {
    const copy = join(work, 'scheduled');
    cpSync(dir, copy, { recursive: true });
    const online = join(work, 'online-only');
    mkdirSync(online, { mode: 0o700 });
    const pem = readdirSync(keys).find((name) => name.startsWith('online-'))!;
    cpSync(join(keys, pem), join(online, 'online.pem'));
    expect((await cli('sign', copy, '--keys', online)).stdout).toMatch(/nothing needed signing/);
    // Its lifetime set longer than what is left: the timestamp is due (as a day later).
    const signing = join(copy, 'publishers-signing.json');
    writeFileSync(signing, readFileSync(signing, 'utf8').replace('"timestamp": "2d"', '"timestamp": "10d"'));
    // check warns of a role past half its time, naming what to run; a warning is no failure.
    const due = await cli('check', copy, '--root', join(dir, 'metadata', '1.root.json'));
    expect(due.code).toBe(0);
    expect(due.stdout + due.stderr).toMatch(/timestamp version \d+ expires at \S+, in \d+(\.\d+)? ?h\w*: run kernelseal publishers sign/);
    const run = await cli('sign', copy, '--keys', online);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/signed\n   timestamp version \d+, expires /) });
    expect(run.stdout).not.toMatch(/snapshot|targets/);
    expect((await cli('check', copy, '--root', join(dir, 'metadata', '1.root.json'))).code).toBe(0);
    // An entry added but not signed offline: the job cannot sign the targets, and writes nothing.
    await cli('add', copy, '--repos', 'late/*', '--github', 'late/builds');
    const before = readdirSync(join(copy, 'metadata')).sort();
    const timestamp = readFileSync(join(copy, 'metadata', 'timestamp.json'));
    const refused = await cli('sign', copy, '--keys', online);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/targets wants 1 of its keys \([0-9a-f]+\); .*online-only holds 0/) });
    expect(readdirSync(join(copy, 'metadata')).sort()).toEqual(before);
    expect(readFileSync(join(copy, 'metadata', 'timestamp.json'))).toEqual(timestamp);
  });

  it('check refuses a private key in the folder and a root that lists one key twice', async () => {
    const copy = join(work, 'copy');
    cpSync(dir, copy, { recursive: true });
    const pem = readdirSync(keys).find((name) => name.startsWith('targets-'))!;
    cpSync(join(keys, pem), join(copy, 'targets', 'oops.pem'));
    const leaked = await cli('check', copy);
    expect(leaked.code).toBe(1);
    expect(leaked.stdout).toMatch(/❌ targets\/oops.pem holds a private key: it would be uploaded with the list/);

    // A root (validly signed by the root keys) listing the targets key a second time, under another ID.
    const twice = join(work, 'twice');
    cpSync(dir, twice, { recursive: true });
    const names = readdirSync(join(twice, 'metadata')).filter((n) => /^\d+\.root\.json$/.test(n));
    const newest = Math.max(...names.map((n) => Number(n.split('.')[0])));
    const current = Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(join(twice, 'metadata', `${newest}.root.json`), 'utf8')));
    const json = current.signed.toJSON() as { version: number; keys: Record<string, unknown>; roles: Record<string, { keyids: string[]; threshold: number }> };
    const targetsId = json.roles.targets!.keyids[0]!;
    json.version = newest + 1;
    json.keys['f'.repeat(64)] = json.keys[targetsId];
    json.roles.targets!.keyids.push('f'.repeat(64));
    json.roles.targets!.threshold = 2;
    const next = Metadata.fromJSON(MetadataKind.Root, { signed: { ...json, _type: 'root' }, signatures: [] }) as Metadata<Root>;
    for (const file of readdirSync(keys).filter((n) => n.startsWith('root-'))) {
      const privateKey = createPrivateKey(readFileSync(join(keys, file)));
      const publicHex = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
      const listed = Object.entries(json.keys).find(([, key]) => (key as { keyval: { public: string } }).keyval.public === publicHex)?.[0];
      if (listed) next.sign((data) => new Signature({ keyID: listed, sig: sign(null, data, privateKey).toString('hex') }), true);
    }
    writeFileSync(join(twice, 'metadata', `${newest + 1}.root.json`), JSON.stringify(next.toJSON()));
    const run = await cli('check', twice);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`❌ metadata/${newest + 1}\\.root\\.json is refused: one key is listed twice, as ${targetsId} and f{64}`));
    expect(run.stdout).toMatch(/❌ a client refuses it: .*one key is listed twice/);
  });
});
