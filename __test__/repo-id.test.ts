// A Hub repository id (src/repo-id.ts): huggingface_hub's validate_repo_id, the one rule a load,
// a lock, the command line and a publisher list all apply.
import { describe, expect, it } from 'vitest';
import { DIST, internal } from './helpers/package.js';

const { isRepoId, isRepoOwner } = (await import(internal('repo-id.js'))) as typeof import('../dist/repo-id.js');
const { parsePublisherList } = (await import(internal('trust/publisher-list.js'))) as typeof import('../dist/trust/publisher-list.js');
const ks = (await import(DIST)) as typeof import('../dist/index.js');

describe('isRepoId', () => {
  it('takes org/name as the Hub spells it', () => {
    for (const id of ['kernels-community/relu', 'my.org_1-x/relu.v2', 'A/b', '_/_', `o/${'n'.repeat(96)}`, `${'o'.repeat(200)}/n`]) expect(isRepoId(id), id).toBe(true);
  });

  it('refuses what validate_repo_id refuses: a missing or extra part, other characters, "-" or "." at an end, "--", "..", a name over 96 or ending in ".git"', () => {
    for (const id of ['relu', 'a/b/c', '/relu', 'org/', 'org/re lu', 'ørg/relu', 'org/relu-', '-org/relu', 'org/.relu', 'org./relu', 'org--x/relu', 'org/re--lu', 'org/re..lu', '../relu', 'org/..', `o/${'n'.repeat(97)}`, 'org/relu.git', '']) {
      expect(isRepoId(id), id).toBe(false);
    }
    expect(isRepoId(undefined)).toBe(false);
    expect(isRepoId(['org/relu'])).toBe(false);
  });

  it('takes an owner alone by the same rule (what org/* names)', () => {
    expect(isRepoOwner('kernels-community')).toBe(true);
    for (const owner of ['', '-org', 'org.', 'a--b', 'a..b', 'o/x', 'ørg']) expect(isRepoOwner(owner), owner).toBe(false);
  });
});

describe('one rule for a load and a publisher list', () => {
  const policy = { github: { repository: 'org/builds' } };
  const listOf = (repos: string) => JSON.stringify({ schema: 'kernelseal/kernel-publishers/v1', entries: [{ repos, policy }] });

  it('refuses in a list entry the ids a load refuses (they once differed: "-org", "a--b", "x.git" were read)', async () => {
    for (const repos of ['-org/x', 'org/x-', 'a--b/x', 'a--b/*', 'org/x.git', 'org/a..b']) {
      expect(() => parsePublisherList(listOf(repos), { source: 'test' }), repos).toThrow(/repos/);
      if (!repos.endsWith('/*')) await expect(ks.getKernel(repos, { offline: true })).rejects.toThrow(new TypeError(`not a repository id: ${JSON.stringify(repos)}`));
    }
    expect(parsePublisherList(listOf('my.org_1-x/relu.v2'), { source: 'test' }).entries).toHaveLength(1);
  });
});
