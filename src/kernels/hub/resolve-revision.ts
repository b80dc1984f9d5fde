import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HubCache } from './cache.js';
import { HubClient, HubError, listedVariants, type HubFile } from './hub-client.js';
import { LockfileError } from './lockfile.js';
import type { ResolveOptions } from './load-options.js';
import { KernelRefusedError, type RevisionSource } from './load-outcome.js';
import { isCommit } from '../../commit.js';

/** What stage 2 establishes: the commit, the variants under build/ there, and (online) the Hub's listing of it. */
export interface ResolvedRevision {
  revision: string;
  commit: string;
  variants: string[];
  /** Every file at the commit, as the Hub lists it; undefined when the cache stood in for the Hub. */
  listing?: HubFile[];
  revisionSource: RevisionSource;
}

/**
 * Stage 2, resolve: the commit a revision names and the variants under build/ there, from the
 * Hub, or (offline) from what the cache holds; records the revision's commit in the cache. A
 * lock pins the commit: the Hub must resolve it to the locked one.
 */
export async function resolveRevision(repoId: string, options: ResolveOptions, cache: HubCache): Promise<ResolvedRevision> {
  const resolved = options.offline ? await fromCache(repoId, options.revision, cache, 'cache') : await fromHub(repoId, options, cache);
  if (options.lock && options.lock.commit !== resolved.commit) throw new LockfileError(`${repoId}: the Hub resolved ${options.revision} to ${resolved.commit}, not the locked commit`);
  return resolved;
}

/**
 * The revision as the Hub lists it. As huggingface_hub does, a Hub that cannot be reached (not
 * one that answers "no") falls back to what the cache holds, which is verified all the same.
 */
async function fromHub(repoId: string, { revision, hub, warn }: ResolveOptions, cache: HubCache): Promise<ResolvedRevision> {
  try {
    const { commit, files } = await new HubClient(hub).revision(repoId, revision);
    if (!isCommit(revision)) await cache.writeRef(revision, commit);
    const variants = listedVariants(files);
    return { revision, commit, variants, listing: files, revisionSource: 'hub' };
  } catch (error) {
    if (!(error instanceof HubError && error.unreachable)) throw error;
    const cached = await cachedCommit(revision, cache);
    if (!cached) throw new HubError(`${error.message}; and ${repoId}@${revision} is not in the cache (${cache.repoDir})`, undefined, true);
    warn(`${error.message}; using ${repoId}@${revision} from the cache (${cached})`);
    return fromCache(repoId, revision, cache, 'cache-fallback');
  }
}

/** The revision as the cache holds it: the commit it resolved to last time, and the variants of that snapshot. */
async function fromCache(repoId: string, revision: string, cache: HubCache, revisionSource: RevisionSource): Promise<ResolvedRevision> {
  const commit = isCommit(revision) ? revision : await cache.readRef(revision);
  if (!commit || !(await cache.realFolder(cache.snapshotDir(commit)))) {
    const searched = commit ? cache.snapshotDir(commit) : join(cache.repoDir, 'refs', revision);
    throw new KernelRefusedError(`${repoId}@${revision} is not in the cache (no ${searched}) and offline mode is on (HF_HUB_OFFLINE)`);
  }
  const build = join(cache.snapshotDir(commit), 'build');
  const variants = (await cache.realFolder(build)) ? await readdir(build) : [];
  return { revision, commit, variants: variants.sort(), revisionSource };
}

/** The commit a revision resolved to last time, if the cache holds its snapshot. */
async function cachedCommit(revision: string, cache: HubCache): Promise<string | undefined> {
  const commit = isCommit(revision) ? revision : await cache.readRef(revision);
  return commit && (await cache.realFolder(cache.snapshotDir(commit))) ? commit : undefined;
}
