import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import type { HubFile } from './hub-client.js';
import { isJSONObject } from '../../json/json-object.js';
import { readStrictJSONFile } from '../../json/strict-json.js';
import { isCommit } from '../../commit.js';

/** One kernel pinned in a `kernels.lock`: a commit, and a hash per variant. */
export interface KernelLock {
  repoId: string;
  commit: string;
  variants: Record<string, { hash: string; hashType: 'git_lfs_concat' }>;
}

/** The lock file is malformed, or a download does not match it. */
export class LockfileError extends Error {
  override readonly name = 'LockfileError';
  readonly code = 'LOCKFILE_MISMATCH' as const;
}

/**
 * The reference's variant hash ("git_lfs_concat"): SHA-256 over the variant's files in byte
 * order of their path relative to build/<variant>/, each as its path (UTF-8) followed by the raw
 * bytes of its LFS SHA-256, or of its Git blob ID when it is not in LFS.
 */
export function variantLockHash(files: readonly HubFile[], variant: string): string {
  const prefix = `build/${variant}/`;
  const entries = files
    .filter((file) => file.path.startsWith(prefix))
    .map((file) => [Buffer.from(file.path.slice(prefix.length), 'utf8'), Buffer.from(file.lfsSha256 ?? file.blobId, 'hex')] as const)
    .sort(([a], [b]) => Buffer.compare(a, b));
  const hash = createHash('sha256');
  for (const [path, id] of entries) hash.update(path).update(id);
  return `sha256-${hash.digest('hex')}`;
}

/** The largest kernels.lock read: a few hundred bytes a kernel. */
const MAX_LOCKFILE_BYTES = 16 * 1024 * 1024;

/** Reads a `kernels.lock` (the reference's JSON format: repo_id, sha, variants), bounded and strict (src/json/strict-json.ts). */
export async function readLockfile(path: string): Promise<KernelLock[]> {
  const json = await readStrictJSONFile(path, MAX_LOCKFILE_BYTES, (message, cause) => new LockfileError(message, { cause }));
  if (!Array.isArray(json)) throw new LockfileError(`${path}: a kernels.lock is a JSON array`);
  return json.map((entry, i) => {
    const at = `${path}[${i}]`;
    const e = isJSONObject(entry) ? entry : {};
    if (typeof e.repo_id !== 'string') throw new LockfileError(`${at}: no repo_id`);
    if (!isCommit(e.sha)) throw new LockfileError(`${at}: sha must be a commit`);
    if (!isJSONObject(e.variants)) throw new LockfileError(`${at}: no variants`);
    const variants: KernelLock['variants'] = {};
    for (const [name, lock] of Object.entries(e.variants)) {
      const l = isJSONObject(lock) ? lock : {};
      if (typeof l.hash !== 'string' || !/^sha256-[0-9a-f]{64}$/.test(l.hash)) throw new LockfileError(`${at}.variants.${name}: hash must be sha256-<hex>`);
      if ((l.hash_type ?? 'git_lfs_concat') !== 'git_lfs_concat') throw new LockfileError(`${at}.variants.${name}: unsupported hash_type ${String(l.hash_type)}`);
      variants[name] = { hash: l.hash, hashType: 'git_lfs_concat' };
    }
    return { repoId: e.repo_id, commit: e.sha, variants };
  });
}

/** Writes a `kernels.lock` in the reference's format, replacing the file atomically. */
export async function writeLockfile(path: string, locks: readonly KernelLock[]): Promise<void> {
  const json = locks.map((lock) => ({
    repo_id: lock.repoId,
    sha: lock.commit,
    variants: Object.fromEntries(Object.entries(lock.variants).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, v]) => [name, { hash: v.hash, hash_type: v.hashType }])),
  }));
  await writeFileAtomic(path, `${JSON.stringify(json, null, 2)}\n`);
}

/** The lock of `repoId` at `commit` for every variant the listing has. */
export function lockFromListing(repoId: string, commit: string, files: readonly HubFile[]): KernelLock {
  const variants = [...new Set(files.filter((f) => f.path.startsWith('build/')).map((f) => f.path.split('/')[1]!))].sort();
  return { repoId, commit, variants: Object.fromEntries(variants.map((v) => [v, { hash: variantLockHash(files, v), hashType: 'git_lfs_concat' as const }])) };
}
