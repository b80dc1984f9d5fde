import { afterAll, describe, expect, it } from 'vitest';
import { startMockHub, type MockHub } from './helpers/mock-hub.js';
import { tempDir } from './helpers/fs.js';
import { DIST } from './helpers/package.js';
import { TestTufRepo, listOf } from './helpers/tuf-repo.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');

const REPO = 'datasets/trust-org/kernel-publishers';
const LIST = `hf://${REPO}`;
const ENTRY = { repos: 'kernels-community/*', policy: { github: { repository: 'huggingface/kernels-community' } }, note: 'community builds' };

const hubs: MockHub[] = [];
afterAll(() => Promise.all(hubs.map((hub) => hub.close())));

async function served(repo: TestTufRepo) {
  const override = new Map<string, Buffer | null>();
  const hub = await startMockHub([], {}, [repo.route(REPO, { override })]);
  hubs.push(hub);
  const stateDir = tempDir('kernelseal-state-');
  const open = (options: Partial<Parameters<typeof ks.openPublisherList>[0]> = {}) =>
    ks.openPublisherList({ list: LIST, root: repo.pinnedRoot, stateDir, hub: { endpoint: hub.url, token: 'hf_test' }, ...options });
  const requests = () => hub.requests.filter((r) => r.path.startsWith(`/${REPO}/`)).map((r) => r.path.slice(`/${REPO}/resolve/main/`.length));
  return { hub, open, override, stateDir, requests };
}

describe('openPublisherList', () => {
  it('verifies a list from the Hub and says what it is', async () => {
    const repo = new TestTufRepo().publish(listOf(ENTRY));
    const { open, requests } = await served(repo);
    const list = await open();
    expect(list.version).toBe(1);
    expect(list.from).toBe('network');
    expect(list.entries.map((e) => e.repos)).toEqual(['kernels-community/*']);
    expect(list.rootDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(requests()).toEqual(['metadata/2.root.json', 'metadata/timestamp.json', 'metadata/1.snapshot.json', 'metadata/1.targets.json', expect.stringMatching(/^targets\/[0-9a-f]{64}\.kernel-publishers\.json$/)]);
    const again = await open();
    expect(again.from).toBe('cache');
    expect(again.requests).toBe(0);
  });
});
