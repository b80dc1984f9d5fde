import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBounded } from '../../fs/read-bounded.js';
import { PublisherListError } from '../../trust/publisher-list.js';
import { MAX_BYTES } from './list-fetcher.js';
import { ListRepository, ROLE_NAMES, privateKeysIn } from './list-repository.js';
import { openPublisherList, type VerifiedPublisherList } from './open-list.js';
import { RootRefusedError, readRoot } from './root-rules.js';

/** What `publishers check` found: the list as a client reads it, what refuses the folder, what wants doing soon. */
export interface RepositoryCheck {
  list?: VerifiedPublisherList;
  problems: string[];
  warnings: string[];
}

/**
 * Reads a list's folder as a client would (a fresh client pinned to `root`, by default the
 * folder's own 1.root.json) and as a maintainer must before uploading it: no private key in it,
 * every root by the client's rules, and a warning for each role that expires within half its
 * lifetime and for a draft not yet signed.
 */
export async function checkRepository(dir: string, options: { root?: string | Uint8Array } = {}): Promise<RepositoryCheck> {
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const file of await privateKeysIn(dir)) problems.push(`${file} holds a private key: it would be uploaded with the list (keep keys outside ${dir})`);
  for (const name of (await readdir(join(dir, 'metadata')).catch(() => [] as string[])).filter((n) => /^\d+\.root\.json$/.test(n))) {
    const read = await readBounded(join(dir, 'metadata', name), MAX_BYTES.root);
    if (!('bytes' in read)) {
      problems.push(`metadata/${name}: ${'error' in read ? read.error : 'not found'}`);
      continue;
    }
    try {
      readRoot(read.bytes, `metadata/${name}`);
    } catch (error) {
      if (!(error instanceof RootRefusedError)) throw error;
      problems.push(error.message);
    }
  }
  if (options.root === undefined) warnings.push(`checked against the folder's own metadata/1.root.json: clients pin the root they were given (--root to check against it)`);
  const stateDir = await mkdtemp(join(tmpdir(), 'kernelseal-check-'));
  let list: VerifiedPublisherList | undefined;
  try {
    list = await openPublisherList({ list: dir, root: options.root ?? join(dir, 'metadata', '1.root.json'), stateDir, refreshIntervalMs: 0, offline: false });
  } catch (error) {
    if (!(error instanceof PublisherListError)) throw error;
    problems.push(`a client refuses it: ${error.message}`);
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
  let repository: ListRepository;
  try {
    repository = await ListRepository.read(dir);
  } catch (error) {
    // The roots were each reported above; anything else that keeps the folder from being read is one more problem.
    const message = (error as Error).message;
    if (!problems.includes(message)) problems.push(message);
    return { ...(list ? { list } : {}), problems, warnings };
  }
  const roles = repository.roles();
  for (const role of ROLE_NAMES) {
    const state = roles[role];
    if (!state) continue;
    const left = Date.parse(state.expires) - Date.now();
    if (left > 0 && left < repository.periods[role] / 2) {
      const how = role === 'root' ? 'kernelseal publishers sign --role root, with the root keys' : 'kernelseal publishers sign';
      warnings.push(`${role} version ${state.version} expires at ${state.expires}, in ${hours(left)}: run ${how}`);
    }
  }
  if (await repository.unsigned()) warnings.push(`kernel-publishers.json has changes not signed yet: run kernelseal publishers sign`);
  return { ...(list ? { list } : {}), problems, warnings };
}

function hours(ms: number): string {
  return ms >= 48 * 3_600_000 ? `${Math.floor(ms / 86_400_000)} days` : `${Math.max(1, Math.floor(ms / 3_600_000))} h`;
}
