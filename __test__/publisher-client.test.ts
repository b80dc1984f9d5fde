// The publisher list client (src/kernels/publishers/, docs/publishers.md section 3) against TUF
// repositories the tests build with @tufjs/models (helpers/tuf-repo.ts), served by the mock Hub:
// each attack TUF names, and each rule the client adds around tuf-js.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { startMockHub, type MockHub } from './helpers/mock-hub.js';
import { tempDir } from './helpers/fs.js';
import { DIST, runCli } from './helpers/package.js';
import { TestTufRepo, listOf, makeKey } from './helpers/tuf-repo.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

const REPO = 'datasets/trust-org/kernel-publishers';
const LIST = `hf://${REPO}`;
const ENTRY = { repos: 'kernels-community/*', policy: { github: { repository: 'huggingface/kernels-community' } }, note: 'community builds' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const hubs: MockHub[] = [];
afterAll(() => Promise.all(hubs.map((hub) => hub.close())));
afterEach(() => {
  vi.useRealTimers();
});

type OpenOptions = Partial<Parameters<typeof ks.openPublisherList>[0]>;

/** `repo` served by a fresh mock Hub, and a client of it with its own state folder. */
async function served(repo: TestTufRepo, options: { stateDir?: string } = {}) {
  const override = new Map<string, Buffer | null>();
  const hub = await startMockHub([], {}, [repo.route(REPO, { override })]);
  hubs.push(hub);
  const stateDir = options.stateDir ?? tempDir('kernelseal-state-');
  const open = (more: OpenOptions = {}) => ks.openPublisherList({ list: LIST, root: repo.pinnedRoot, stateDir, hub: { endpoint: hub.url, token: 'hf_test' }, ...more });
  const prefix = `/${REPO}/resolve/main/`;
  const requests = () => hub.requests.filter((r) => r.path.startsWith(prefix)).map((r) => r.path.slice(prefix.length));
  const metadataDir = () => {
    const root = join(stateDir, 'publishers');
    return join(root, readdirSync(root)[0]!, 'metadata');
  };
  return { hub, open, override, stateDir, requests, metadataDir };
}

/** The error `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string; name: string }> {
  const error = await promise.then(
    () => expect.fail('expected the list to be refused'),
    (e: unknown) => e,
  );
  return error as { code?: string; message: string; name: string };
}

/** Date (only Date: the network's timers stay real) set to `at`. */
function clockAt(at: number): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(at);
}

describe('a list that verifies', () => {
  it('is read from the Hub through TUF, says what it is, and is then served from the cache with no request', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, requests, hub } = await served(repo);
    const list = await open();
    expect(list).toMatchObject({ version: 1, from: 'network', location: LIST, source: LIST, rootDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(list.entries.map((e) => [e.repos, e.note])).toEqual([['kernels-community/*', 'community builds']]);
    expect(list.roles.timestamp.version).toBe(1);
    expect(list.expires.getTime()).toBe(list.roles.timestamp.expires.getTime()); // the timestamp expires first
    expect(requests()).toEqual([
      'metadata/2.root.json',
      'metadata/timestamp.json',
      'metadata/1.snapshot.json',
      'metadata/1.targets.json',
      expect.stringMatching(/^targets\/[0-9a-f]{64}\.kernel-publishers\.json$/),
    ]);
    expect(list.requests).toBe(5);
    // The Hub client's token goes to its endpoint.
    expect(hub.requests.at(-1)!.authorization).toBe('Bearer hf_test');

    const before = hub.requests.length;
    const again = await open();
    expect(again).toMatchObject({ from: 'cache', requests: 0, version: 1 });
    expect(again.lastRefresh).toEqual(list.lastRefresh);
    expect(hub.requests.length).toBe(before);
  });

  it('reads hf:// model repositories, a revision, https-less loopback URLs and folders alike', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const hub = await startMockHub([], {}, [repo.route('trust-org/list'), repo.route('trust-org/list', { revision: 'v2' })]);
    hubs.push(hub);
    const stateDir = tempDir('kernelseal-state-');
    for (const list of ['hf://trust-org/list', 'hf://models/trust-org/list@v2', `${hub.url}/trust-org/list/resolve/main`, repo.writeTo(tempDir())]) {
      const opened = await ks.openPublisherList({ list, root: repo.pinnedRoot, stateDir: tempDir(), hub: { endpoint: hub.url, token: 'hf_x' } });
      expect(opened.version).toBe(1);
    }
    expect(hub.requests.some((r) => r.path === '/trust-org/list/resolve/v2/metadata/timestamp.json')).toBe(true);
    expect(stateDir).toBeTruthy();
  });

  it('sends the Hub token to the Hub endpoint only, never to another server', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const hub = await startMockHub([], {}, [repo.route(REPO)]);
    hubs.push(hub);
    const other = hub.url.replace('127.0.0.1', 'localhost'); // another origin, the same server
    await ks.openPublisherList({ list: `${hub.url}/${REPO}/resolve/main`, root: repo.pinnedRoot, stateDir: tempDir(), hub: { endpoint: other, token: 'hf_secret' } });
    expect(hub.requests.filter((r) => r.authorization !== undefined)).toEqual([]);
  });

  it('bounds every wait with the Hub client deadline, naming the server', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const stalled: Array<import('node:http').ServerResponse> = [];
    const silent = (path: string, res: import('node:http').ServerResponse) => path.endsWith('/timestamp.json') && (stalled.push(res), true);
    const hub = await startMockHub([], {}, [silent, repo.route(REPO)]);
    hubs.push(hub);
    const started = Date.now();
    const refused = await failure(ks.openPublisherList({ list: LIST, root: repo.pinnedRoot, stateDir: tempDir(), hub: { endpoint: hub.url, timeoutMs: 300 } }));
    expect(refused).toMatchObject({ code: 'LIST_UNAVAILABLE', message: expect.stringMatching(/the Hub \(http:\/\/127\.0\.0\.1:\d+\) did not answer within 0.3 s/) });
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const res of stalled) res.destroy();
  });

  it('refuses a list location it cannot read, and plain http off the loopback', async () => {
    const root = new TestTufRepo().pinnedRoot;
    for (const list of ['http://example.com/list', 'hf://just-a-name', 'ftp://example.com/x', '/no/such/folder']) {
      await expect(ks.openPublisherList({ list, root, stateDir: tempDir() })).rejects.toThrow(TypeError);
    }
  });
});

describe('rollback', () => {
  it('refuses older targets after newer ones, by TUF and by the floor when the cache is gone', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY)).publish(listOf(ENTRY, { ...ENTRY, repos: 'other/*' }));
    const { open, override, metadataDir } = await served(repo);
    expect((await open()).version).toBe(2);
    // A snapshot (newer, signed by the snapshot key) naming targets version 1 again.
    repo.signSnapshot({ targetsVersion: 1 });
    const refused = await failure(open({ refreshIntervalMs: 0 }));
    expect(refused).toMatchObject({ name: 'PublisherListError', code: 'LIST_ROLLBACK' });
    expect(refused.message).toMatch(/targets.json is less than current version 2/);
    // With the cached snapshot deleted, tuf-js has nothing to compare with: the floor has.
    rmSync(join(metadataDir(), 'snapshot.json'));
    const floor = await failure(open({ refreshIntervalMs: 0 }));
    expect(floor).toMatchObject({ code: 'LIST_ROLLBACK' });
    expect(floor.message).toMatch(/targets version 1 is older than version 2, which this client accepted before/);
    expect(override.size).toBe(0);
  });

  it('refuses an older snapshot after a newer one, by TUF and by the floor when the cached timestamp is gone', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY)).publish(listOf(ENTRY));
    const { open, metadataDir } = await served(repo);
    await open();
    repo.signTimestamp({ snapshotVersion: 1 });
    expect(await failure(open({ refreshIntervalMs: 0 }))).toMatchObject({ code: 'LIST_ROLLBACK', message: expect.stringMatching(/snapshot version 1 is less than current version 2/) });
    rmSync(join(metadataDir(), 'timestamp.json'));
    rmSync(join(metadataDir(), 'snapshot.json'));
    expect(await failure(open({ refreshIntervalMs: 0 }))).toMatchObject({ code: 'LIST_ROLLBACK', message: expect.stringMatching(/snapshot version 1 is older than version 2/) });
  });

  it('refuses an older timestamp served again', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY)).signTimestamp();
    const { open, override } = await served(repo);
    await open();
    override.set('metadata/timestamp.json', repo.timestamps.get(1)!);
    expect(await failure(open({ refreshIntervalMs: 0 }))).toMatchObject({ code: 'LIST_ROLLBACK', message: expect.stringMatching(/timestamp version 1 is less than current version 2/) });
  });

  for (const damage of ['damaged', 'deleted'] as const) {
    it(`never lowers the floor when the cached timestamp is ${damage}`, async () => {
      const repo = new TestTufRepo().publish(listOf(ENTRY)).signTimestamp().signTimestamp();
      const { open, override, metadataDir } = await served(repo);
      await open();
      const cached = join(metadataDir(), 'timestamp.json');
      if (damage === 'damaged') writeFileSync(cached, readFileSync(cached, 'utf8').replace('"version":3', '"version":9'));
      else rmSync(cached);
      // tuf-js treats the damaged file as absent and would take version 2: the floor is 3.
      override.set('metadata/timestamp.json', repo.timestamps.get(2)!);
      const refused = await failure(open({ refreshIntervalMs: 0 }));
      expect(refused).toMatchObject({ code: 'LIST_ROLLBACK' });
      expect(refused.message).toMatch(/timestamp version 2 is older than version 3, which this client accepted before/);
      // The current timestamp heals the cache.
      override.delete('metadata/timestamp.json');
      expect((await open({ refreshIntervalMs: 0 })).roles.timestamp.version).toBe(3);
    });
  }

  it('refuses a list older than the lock allows, on a fresh machine', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY)).publish(listOf(ENTRY));
    const { open } = await served(repo);
    expect(await failure(open({ minTargetsVersion: 3 }))).toMatchObject({ code: 'LIST_ROLLBACK', message: expect.stringMatching(/targets version 2 is older than version 3, the lowest the lock allows/) });
    expect((await open({ minTargetsVersion: 2 })).version).toBe(2);
  });

  it('refuses a Hub that withholds a newer root this client has seen', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY)).rotateRoot();
    const { open, override } = await served(repo);
    expect((await open()).roles.root.version).toBe(2);
    override.set('metadata/2.root.json', null);
    expect(await failure(open({ refreshIntervalMs: 0 }))).toMatchObject({ code: 'LIST_ROLLBACK', message: expect.stringMatching(/root version 1 is older than version 2/) });
  });
});

describe('freeze', () => {
  it('refuses an expired timestamp, first time and after a refresh', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY), { expires: { timestamp: -1 } });
    const { open } = await served(repo);
    expect(await failure(open())).toMatchObject({ code: 'LIST_EXPIRED', message: expect.stringMatching(/timestamp.json is expired/) });
    repo.signTimestamp();
    await open();
    repo.signTimestamp({ expires: { timestamp: -1 } });
    expect(await failure(open({ refreshIntervalMs: 0 }))).toMatchObject({ code: 'LIST_EXPIRED' });
  });

  it('refuses expired targets', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY), { expires: { targets: -1 } });
    const { open } = await served(repo);
    expect(await failure(open())).toMatchObject({ code: 'LIST_EXPIRED', message: expect.stringMatching(/targets.json is expired/) });
  });
});

describe('mix-and-match', () => {
  it('refuses a snapshot other than the one the timestamp names', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY)).publish(listOf(ENTRY, { ...ENTRY, repos: 'x/*' }));
    const { open, override } = await served(repo);
    override.set('metadata/2.snapshot.json', repo.files.get('metadata/1.snapshot.json')!);
    expect(await failure(open())).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/length|hash/i) });
  });

  it('refuses targets other than the ones the snapshot names', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY)).publish(listOf(ENTRY, { ...ENTRY, repos: 'x/*' }));
    const { open, override } = await served(repo);
    override.set('metadata/2.targets.json', repo.files.get('metadata/1.targets.json')!);
    expect(await failure(open())).toMatchObject({ code: 'LIST_REFUSED' });
  });

  it('refuses a list file other than the one the targets name', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, override } = await served(repo);
    const name = [...repo.files.keys()].find((path) => path.startsWith('targets/'))!;
    override.set(name, Buffer.from(JSON.stringify(listOf({ ...ENTRY, repos: 'evil/*' }))));
    expect(await failure(open())).toMatchObject({ code: 'LIST_REFUSED' });
  });
});

describe('root rotation', () => {
  it('follows the root chain from the pinned root: new timestamp key, then new root keys', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open } = await served(repo);
    await open();
    const timestampKey = makeKey();
    repo.rotateRoot((root) => {
      delete root.keys[repo.keys.timestamp[0]!.id];
      root.roles.timestamp!.keyIDs.splice(0, 1, timestampKey.id);
      root.keys[timestampKey.id] = timestampKey.key;
    });
    repo.keys.timestamp = [timestampKey];
    repo.signTimestamp();
    const rotated = await open({ refreshIntervalMs: 0 });
    expect(rotated.roles.root.version).toBe(2);
    // Root keys rotated: v3 signed by the old root key and the new one.
    const newRoot = makeKey();
    const oldRoot = repo.keys.root[0]!;
    repo.rotateRoot((root) => {
      delete root.keys[oldRoot.id];
      root.roles.root!.keyIDs.splice(0, 1, newRoot.id);
      root.keys[newRoot.id] = newRoot.key;
    }, [oldRoot, newRoot]);
    repo.keys.root = [newRoot];
    repo.rotateRoot(); // v4, signed by the new key alone
    repo.signTimestamp();
    expect((await open({ refreshIntervalMs: 0 })).roles.root.version).toBe(4);
    // A fresh client pinned to v1 walks the whole chain.
    const fresh = await served(repo);
    expect((await fresh.open()).roles.root.version).toBe(4);
  });

  it('refuses a root signed by fewer keys than the threshold', async () => {
    const repo = new TestTufRepo({ rootKeys: 3, rootThreshold: 2 }).publish(listOf(ENTRY));
    const { open } = await served(repo);
    await open();
    repo.rotateRoot(() => {}, [repo.keys.root[0]!]);
    expect(await failure(open({ refreshIntervalMs: 0 }))).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/root was signed by 1\/2 keys/) });
  });

  it('refuses a new root the old root keys did not sign', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open } = await served(repo);
    const intruder = makeKey();
    repo.rotateRoot((root) => {
      root.roles.root!.keyIDs.splice(0, 1, intruder.id);
      root.keys[intruder.id] = intruder.key;
    }, [intruder]);
    expect(await failure(open())).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/root was signed by 0\/1 keys/) });
  });
});

describe('keys', () => {
  it('counts one key listed under two key IDs once: such a root is refused', async () => {
    // The timestamp role wants 2 signatures; both key IDs are one key, so one stolen key signs twice.
    const repo = new TestTufRepo();
    const twin = makeKey('twin-id', repo.keys.timestamp[0]!.privateKey);
    repo.rotateRoot((root) => {
      root.keys[twin.id] = twin.key;
      root.roles.timestamp!.keyIDs.push(twin.id);
      (root.roles.timestamp as { threshold: number }).threshold = 2;
    });
    repo.publish(listOf(ENTRY), { keys: { timestamp: [repo.keys.timestamp[0]!, twin] } });
    const { open } = await served(repo);
    const refused = await failure(open());
    expect(refused).toMatchObject({ code: 'LIST_REFUSED' });
    expect(refused.message).toMatch(/2\.root\.json is refused: one key is listed twice, as [0-9a-f]{64} and twin-id/);
    // The same root pinned is refused before anything is fetched.
    const pinned = await failure(ks.openPublisherList({ list: LIST, root: repo.files.get('metadata/2.root.json')!, stateDir: tempDir() }));
    expect(pinned).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/the pinned root is refused: one key is listed twice/) });
  });

  it('refuses a root whose root key also signs the timestamp (an online role)', async () => {
    const repo = new TestTufRepo();
    repo.rotateRoot((root) => {
      root.roles.timestamp!.keyIDs.push(repo.keys.root[0]!.id);
    });
    repo.publish(listOf(ENTRY));
    const { open } = await served(repo);
    expect(await failure(open())).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/signs both root and timestamp/) });
  });

  it('refuses a repository without consistent snapshots', async () => {
    const repo = new TestTufRepo({ consistentSnapshot: false }).publish(listOf(ENTRY));
    const { open } = await served(repo);
    expect(await failure(open())).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/consistent snapshots/) });
  });
});

describe('the pinned root', () => {
  it('is checked against a pinned digest, fetched once, then kept', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, requests } = await served(repo);
    const digest = (await open()).rootDigest;
    const fresh = await served(repo);
    expect((await fresh.open({ root: digest })).rootDigest).toBe(digest);
    expect(fresh.requests()[0]).toBe('metadata/1.root.json');
    expect((await fresh.open({ root: digest, offline: true })).requests).toBe(0);
    expect(requests().length).toBeGreaterThan(0);
  });

  it('refuses a changed root pin: another digest, or a lock that pins another root', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open } = await served(repo);
    const other = `sha256:${'0'.repeat(64)}`;
    expect(await failure(open({ root: other }))).toMatchObject({ code: 'LIST_ROOT_MISMATCH', message: expect.stringMatching(/1.root.json has the digest sha256:[0-9a-f]{64}, not the pinned sha256:0{64}/) });
    expect(await failure(open({ rootDigest: other }))).toMatchObject({ code: 'LIST_ROOT_MISMATCH', message: expect.stringMatching(/but the lock pins sha256:0{64}/) });
  });

  it('refuses a list whose metadata another root signed', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open } = await served(repo);
    expect(await failure(open({ root: new TestTufRepo().pinnedRoot }))).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/timestamp was signed by 0\/1 keys/) });
  });

  it('uses the cache for the location it was read from only; the floor holds for every location', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY)).publish(listOf(ENTRY));
    const { open, hub } = await served(repo);
    await open();
    const mirror = `${hub.url}/${REPO}/resolve/main`;
    const fromMirror = await open({ list: mirror });
    expect(fromMirror).toMatchObject({ from: 'network', location: mirror });
    expect(await failure(open({ list: 'hf://datasets/trust-org/missing', offline: true }))).toMatchObject({ code: 'LIST_UNAVAILABLE', message: expect.stringMatching(/never fetched/) });
    // A stale mirror of the same repository: refused below the floor the other location set.
    const stale = new Map([['metadata/timestamp.json', repo.timestamps.get(1)!]]);
    const staleHub = await startMockHub([], {}, [repo.route(REPO, { override: stale })]);
    hubs.push(staleHub);
    expect(await failure(open({ list: `${staleHub.url}/${REPO}/resolve/main` }))).toMatchObject({ code: 'LIST_ROLLBACK', message: expect.stringMatching(/timestamp version 1 is less than current version 2/) });
  });

  it('keeps the state of each pinned root apart', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, stateDir } = await served(repo);
    await open();
    await failure(open({ root: new TestTufRepo().pinnedRoot }));
    expect(readdirSync(join(stateDir, 'publishers')).length).toBe(2);
  });
});

describe('sizes', () => {
  it('refuses oversized metadata', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, override } = await served(repo);
    override.set('metadata/timestamp.json', Buffer.alloc(17 * 1024, ' '));
    expect(await failure(open())).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/more than the 16384 bytes allowed/) });
  });

  it('refuses an oversized list before downloading it', async () => {
    const repo = new TestTufRepo().publish(Buffer.alloc(1024 * 1024 + 1, ' '));
    const { open, requests } = await served(repo);
    expect(await failure(open())).toMatchObject({ code: 'LIST_INVALID', message: expect.stringMatching(/1048577 bytes, more than 1048576/) });
    expect(requests().some((path) => path.startsWith('targets/'))).toBe(false);
  });

  it('refuses an invalid list inside valid metadata', async () => {
    const repo = new TestTufRepo().publish(listOf({ ...ENTRY, policy: { builtin: 'kernels-community' } }));
    const { open } = await served(repo);
    expect(await failure(open())).toMatchObject({ code: 'LIST_INVALID', message: expect.stringMatching(/"builtin" is not allowed here/) });
  });

  it('refuses metadata with a repeated JSON key', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, override } = await served(repo);
    const timestamp = repo.files.get('metadata/timestamp.json')!.toString();
    override.set('metadata/timestamp.json', Buffer.from(timestamp.replace('"signed":{', '"signed":{"version":99,')));
    expect(await failure(open())).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/duplicate key "version"/) });
  });
});

describe('the refresh interval and offline use', () => {
  it('refreshes at most once per interval (configurable)', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, requests } = await served(repo);
    const start = Date.now();
    clockAt(start);
    await open();
    const after = requests().length;
    clockAt(start + 59 * 60_000);
    expect((await open()).from).toBe('cache');
    expect(requests().length).toBe(after);
    clockAt(start + 61 * 60_000);
    expect((await open()).from).toBe('network');
    expect(requests()).toContain('metadata/timestamp.json');
    clockAt(start + 62 * 60_000);
    expect((await open({ refreshIntervalMs: 30_000 })).from).toBe('network');
  });

  it('offline: the cached list within its maximum age, with no request at all', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY), { expires: { timestamp: 30 } });
    const { open, hub } = await served(repo);
    const start = Date.now();
    clockAt(start);
    await open();
    const before = hub.requests.length;
    clockAt(start + 6 * DAY);
    const offline = await open({ offline: true });
    expect(offline).toMatchObject({ from: 'cache', requests: 0, version: 1 });
    clockAt(start + 8 * DAY);
    expect(await failure(open({ offline: true }))).toMatchObject({ code: 'LIST_EXPIRED', message: expect.stringMatching(/longer ago than the 7 days a list may be used offline/) });
    clockAt(start + 2 * HOUR);
    expect(await failure(open({ offline: true, maxAgeMs: HOUR }))).toMatchObject({ code: 'LIST_EXPIRED', message: expect.stringMatching(/1 hours/) });
    expect(hub.requests.length).toBe(before);
    await expect(open({ offline: true, maxAgeMs: 8 * DAY })).rejects.toThrow(/can only shorten the 7 days/);
  });

  it('offline: an expired cached timestamp is refused, with no request', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY), { expires: { timestamp: 1 } });
    const { open, hub } = await served(repo);
    const start = Date.now();
    clockAt(start);
    await open();
    const before = hub.requests.length;
    clockAt(start + 2 * DAY);
    expect(await failure(open({ offline: true }))).toMatchObject({ code: 'LIST_EXPIRED', message: expect.stringMatching(/timestamp expired at/) });
    expect(hub.requests.length).toBe(before);
  });

  it('offline: a list never fetched cannot be used (HF_HUB_OFFLINE too)', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, hub } = await served(repo);
    expect(await failure(open({ offline: true }))).toMatchObject({ code: 'LIST_UNAVAILABLE', message: expect.stringMatching(/never fetched/) });
    process.env.HF_HUB_OFFLINE = '1';
    try {
      expect(await failure(open())).toMatchObject({ code: 'LIST_UNAVAILABLE' });
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
    expect(hub.requests.length).toBe(0);
  });

  it('uses the cached list with a warning when the Hub cannot be reached, within the maximum age only', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY), { expires: { timestamp: 30 } });
    const { open, hub } = await served(repo);
    const start = Date.now();
    clockAt(start);
    await open();
    await hub.close();
    const warnings: string[] = [];
    clockAt(start + 2 * DAY);
    const cached = await open({ onWarning: (w) => warnings.push(w) });
    expect(cached.from).toBe('cache');
    expect(warnings).toEqual([expect.stringMatching(/cannot reach the Hub .*using the cached list, last refreshed at/)]);
    clockAt(start + 8 * DAY);
    expect(await failure(open())).toMatchObject({ code: 'LIST_UNAVAILABLE', message: expect.stringMatching(/cannot reach the Hub/) });
  });

  it('refuses a clock earlier than the last refresh, online and offline', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, hub } = await served(repo);
    const start = Date.now();
    clockAt(start);
    await open();
    const before = hub.requests.length;
    clockAt(start - 60_000);
    for (const offline of [false, true]) {
      expect(await failure(open({ offline, refreshIntervalMs: 0 }))).toMatchObject({ code: 'LIST_CLOCK', message: expect.stringMatching(/earlier than the last refresh/) });
    }
    expect(hub.requests.length).toBe(before);
  });
});

describe('the client state', () => {
  it('refreshes once for many concurrent opens, in this process and in others', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, requests, hub, stateDir } = await served(repo);
    const lists = await Promise.all(Array.from({ length: 6 }, () => open()));
    expect(lists.filter((list) => list.from === 'network')).toHaveLength(1);
    expect(requests().filter((path) => path === 'metadata/timestamp.json')).toHaveLength(1);
    // Other processes, each refreshing (interval 0), all at once: one at a time, none fails.
    const script = `const ks = await import(${JSON.stringify(DIST)});
const list = await ks.openPublisherList({ list: ${JSON.stringify(LIST)}, root: Buffer.from(${JSON.stringify(repo.pinnedRoot.toString('base64'))}, 'base64'), stateDir: ${JSON.stringify(stateDir)}, hub: { endpoint: ${JSON.stringify(hub.url)} }, refreshIntervalMs: 0 });
console.log(list.version);`;
    const file = join(tempDir(), 'open-list.mjs');
    writeFileSync(file, script);
    const runs = await Promise.all(Array.from({ length: 4 }, () => runCli([], { cli: file })));
    expect(runs.map((run) => [run.code, run.stdout.trim(), run.stderr])).toEqual(Array.from({ length: 4 }, () => [0, '1', '']));
  });

  it('refuses a state folder others may write, and a damaged state record', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, metadataDir } = await served(repo);
    await open();
    const dir = join(metadataDir(), '..');
    chmodSync(dir, 0o777);
    expect(await failure(open())).toMatchObject({ code: 'LIST_STATE_INVALID', message: expect.stringMatching(/may be written by others \(mode 777\)/) });
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, 'state.json'), '{"schema":');
    expect(await failure(open())).toMatchObject({ code: 'LIST_STATE_INVALID', message: expect.stringMatching(/is damaged .*delete .* to start over/) });
  });

  it('refuses a state folder planted as a link to another folder', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, stateDir } = await served(repo);
    const digest = (await ks.openPublisherList({ list: repo.writeTo(tempDir()), root: repo.pinnedRoot, stateDir: tempDir() })).rootDigest.slice(7);
    const elsewhere = tempDir('kernelseal-planted-');
    mkdirSync(join(stateDir, 'publishers'), { recursive: true });
    symlinkSync(elsewhere, join(stateDir, 'publishers', digest));
    expect(await failure(open())).toMatchObject({ code: 'LIST_STATE_INVALID', message: expect.stringMatching(/is not a directory/) });
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a state folder another user made (as root: one owned by nobody, uid 65534)', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, stateDir } = await served(repo);
    await open();
    const folder = join(stateDir, 'publishers', readdirSync(join(stateDir, 'publishers'))[0]!);
    chownSync(folder, 65534, 65534);
    expect(await failure(open())).toMatchObject({ code: 'LIST_STATE_INVALID', message: expect.stringMatching(/belongs to another user \(uid 65534\)/) });
  });

  it('refuses cached roots that do not chain from the pinned root (offline), and replaces them online', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY)).rotateRoot();
    const { open, metadataDir } = await served(repo);
    await open();
    const planted = new TestTufRepo().rotateRoot().files.get('metadata/2.root.json')!;
    writeFileSync(join(metadataDir(), '2.root.json'), planted);
    expect(await failure(open({ offline: true }))).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/root was signed by 0\/1 keys/) });
    const warnings: string[] = [];
    expect((await open({ onWarning: (w) => warnings.push(w) })).from).toBe('network');
    expect(warnings).toEqual([expect.stringMatching(/cannot be used .*refreshing it from the network/)]);
    expect((await open({ offline: true })).roles.root.version).toBe(2);
  });
});

/**
 * The work folders made in the state `dir` while `run` runs: each one is a run of tuf-js
 * (open-list.ts, Refresh.run), so none means the answer came from the recorded verification.
 */
async function workFoldersDuring<T>(dir: string, run: () => Promise<T>): Promise<{ result: T; work: string[] }> {
  const seen = new Set<string>();
  const watcher = watch(dir, (_event, name) => {
    if (name?.startsWith('work-')) seen.add(name);
  });
  try {
    const result = await run();
    await new Promise((resolve) => setTimeout(resolve, 100)); // inotify reports after the fact
    return { result, work: [...seen] };
  } finally {
    watcher.close();
  }
}

describe('the record of the last verification (a warm open)', () => {
  /** A list opened once online, and its state folder. */
  async function opened(repo: TestTufRepo) {
    const client = await served(repo);
    const first = await client.open();
    const dir = join(client.stateDir, 'publishers', first.rootDigest.slice('sha256:'.length));
    const statePath = join(dir, 'state.json');
    const state = () => JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, unknown> & { verified?: { by: string; roles: Record<string, { version: number }> } };
    const targetPath = () => join(dir, 'targets', readdirSync(join(dir, 'targets'))[0]!);
    return { ...client, first, dir, statePath, state, targetPath };
  }

  it('answers within the interval from the record and the cached list: no request, no tuf-js, the same list', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, first, dir, state, hub, targetPath } = await opened(repo);
    expect(state().verified).toMatchObject({ roles: { root: { version: 1 }, timestamp: { version: 1 }, snapshot: { version: 1 }, targets: { version: 1 } } });
    expect(state().verified).toMatchObject({ target: { sha256: createHash('sha256').update(readFileSync(targetPath())).digest('hex') } });
    const before = hub.requests.length;
    for (const offline of [false, true]) {
      const { result, work } = await workFoldersDuring(dir, () => open({ offline }));
      expect(work).toEqual([]);
      expect(result).toMatchObject({ from: 'cache', requests: 0, version: 1, location: LIST, rootDigest: first.rootDigest });
      expect(JSON.stringify(result.entries)).toBe(JSON.stringify(first.entries));
      expect(result.roles).toEqual(first.roles);
      expect(result.expires).toEqual(first.expires);
      expect(result.lastRefresh).toEqual(first.lastRefresh);
    }
    expect(hub.requests.length).toBe(before);
    // The watcher sees tuf-js when it runs: a record without the facts is verified in full.
    const { verified: _, ...old } = state();
    writeFileSync(join(dir, 'state.json'), JSON.stringify(old));
    expect((await workFoldersDuring(dir, () => open())).work).toHaveLength(1);
  });

  it('opens a state an older kernelseal wrote (no verified facts, or damaged ones) by verifying the cache in full, then records them', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, dir, state, statePath, hub, first } = await opened(repo);
    const { verified, ...old } = state();
    const before = hub.requests.length;
    for (const facts of [undefined, { ...verified!, by: '0.0.1' }, { ...verified!, roles: { root: { version: 'one' } } }, { ...verified!, metadata: { 'timestamp.json': 'not a digest' } }]) {
      writeFileSync(statePath, JSON.stringify({ ...old, ...(facts ? { verified: facts } : {}) }));
      const upgrade = await workFoldersDuring(dir, () => open({ offline: true }));
      expect(upgrade.work).toHaveLength(1);
      expect(upgrade.result).toMatchObject({ from: 'cache', requests: 0, version: 1 });
      expect(state()).toEqual({ ...old, verified });
      expect((await workFoldersDuring(dir, () => open({ offline: true }))).work).toEqual([]);
    }
    expect(hub.requests.length).toBe(before);
    expect(state().lastRefresh).toBe(first.lastRefresh.toISOString());
  });

  it('never trusts a cached list changed after the refresh: online it is fetched again, offline refused', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, targetPath, requests } = await opened(repo);
    const path = targetPath();
    const genuine = readFileSync(path);
    // A valid list, other entries: only its hash gives it away.
    writeFileSync(path, JSON.stringify(listOf({ ...ENTRY, repos: 'evil/*' })));
    // The full verification finds its hash wrong and treats it as not cached.
    expect(await failure(open({ offline: true }))).toMatchObject({ code: 'LIST_UNAVAILABLE', message: expect.stringMatching(/incomplete .*kernel-publishers\.json is not in the cache/) });
    const before = requests().length;
    const again = await open();
    expect(again).toMatchObject({ from: 'network', version: 1 });
    expect(again.entries.map((e) => e.repos)).toEqual(['kernels-community/*']);
    expect(requests().slice(before)).toContainEqual(expect.stringMatching(/^targets\/[0-9a-f]{64}\.kernel-publishers\.json$/));
    expect(readFileSync(path)).toEqual(genuine);
  });

  it('re-verifies cached metadata changed after the refresh (a newer root planted beside the chain)', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, metadataDir } = await opened(repo);
    writeFileSync(join(metadataDir(), '2.root.json'), new TestTufRepo().rotateRoot().files.get('metadata/2.root.json')!);
    expect(await failure(open({ offline: true }))).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/root was signed by 0\/1 keys/) });
  });

  for (const role of ['timestamp', 'targets'] as const) {
    it(`refuses a list whose ${role} expired within the refresh interval offline, and refreshes it online`, async () => {
      const repo = new TestTufRepo().publish(listOf(ENTRY), { expires: { [role]: 1 } });
      const start = Date.now();
      clockAt(start);
      const { open, dir } = await opened(repo);
      clockAt(start + 2 * DAY);
      const offline = await workFoldersDuring(dir, () => failure(open({ offline: true, refreshIntervalMs: 3 * DAY })));
      expect(offline.result).toMatchObject({ code: 'LIST_EXPIRED', message: expect.stringMatching(new RegExp(`${role} expired at`)) });
      repo.publish(listOf(ENTRY)); // re-signed, at the clock's time
      expect(await open({ refreshIntervalMs: 3 * DAY })).toMatchObject({ from: 'network', version: 2 });
    });
  }

  it('refuses a clock earlier than the last refresh within the interval too', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const start = Date.now();
    clockAt(start);
    const { open, hub } = await opened(repo);
    const before = hub.requests.length;
    clockAt(start - 60_000);
    for (const offline of [false, true]) {
      expect(await failure(open({ offline }))).toMatchObject({ code: 'LIST_CLOCK', message: expect.stringMatching(/earlier than the last refresh/) });
    }
    expect(hub.requests.length).toBe(before);
  });

  it("holds to a lock's lowest targets version above the record: refused offline, refreshed online", async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, dir } = await opened(repo);
    repo.publish(listOf(ENTRY, { ...ENTRY, repos: 'other/*' }));
    expect(await failure(open({ offline: true, minTargetsVersion: 2 }))).toMatchObject({ code: 'LIST_ROLLBACK', message: expect.stringMatching(/targets version 1 is older than version 2, the lowest the lock allows/) });
    expect(await open({ minTargetsVersion: 2 })).toMatchObject({ from: 'network', version: 2 });
    expect((await workFoldersDuring(dir, () => open({ offline: true, minTargetsVersion: 2 }))).work).toEqual([]);
  });

  it("checks a kept root's signatures through the full verification: a root planted as kept is still refused", async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const good = JSON.parse(repo.pinnedRoot.toString()) as { signed: { expires: string } };
    good.signed.expires = '2099-01-01T00:00:00Z'; // its signature no longer holds
    const forged = Buffer.from(JSON.stringify(good));
    const { open, stateDir } = await served(repo);
    expect(await failure(open({ root: forged }))).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/root was signed by 0\/1 keys/) });
    const dir = join(stateDir, 'publishers', createHash('sha256').update(forged).digest('hex'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'pinned.root.json'), forged);
    expect(await failure(open({ root: forged }))).toMatchObject({ code: 'LIST_REFUSED', message: expect.stringMatching(/signed by 0\/1 keys/) });
  });
});
