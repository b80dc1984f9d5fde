import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import type { HubFile } from './hub-client.js';
import { parseStrictJSON } from '../../json/strict-json.js';

/**
 * One identity that signed a locked kernel, as its certificate states it (in the spirit of
 * PEP 751's `attestation-identities`). A field left out is not checked.
 */
export interface LockedIdentity {
  issuer: string;
  /** The source repository URI, e.g. https://github.com/huggingface/kernels-community. */
  sourceRepository?: string;
  /** The signing workflow (build signer URI). */
  workflow?: string;
  /** The git ref built (source repository ref). */
  ref?: string;
}

/** One kernel pinned in a `kernels.lock`: a commit, and a hash per variant. */
export interface KernelLock {
  repoId: string;
  commit: string;
  variants: Record<string, { hash: string; hashType: 'git_lfs_concat' }>;
  /**
   * The identities that signed it: a load's signature must be by one of them, as well as satisfy
   * the policy or list (kernelseal's; beside `variants` in the file, which the reference ignores).
   */
  identities?: LockedIdentity[];
  /** With a publisher list: its pinned root's digest (`sha256:<hex>`), and the lowest targets version allowed. */
  publisherList?: { rootDigest: string; minTargetsVersion: number };
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

/** Reads a `kernels.lock` (the reference's JSON format: repo_id, sha, variants). */
export async function readLockfile(path: string): Promise<KernelLock[]> {
  let json: unknown;
  try {
    json = parseStrictJSON(await readFile(path));
  } catch (error) {
    throw new LockfileError(`${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(json)) throw new LockfileError(`${path}: a kernels.lock is a JSON array`);
  return json.map((entry, i) => {
    const e = entry as { repo_id?: unknown; sha?: unknown; variants?: unknown } & Record<string, unknown>;
    const at = `${path}[${i}]`;
    if (typeof e?.repo_id !== 'string') throw new LockfileError(`${at}: no repo_id`);
    if (typeof e.sha !== 'string' || !/^[0-9a-f]{40}$/.test(e.sha)) throw new LockfileError(`${at}: sha must be a commit`);
    if (typeof e.variants !== 'object' || e.variants === null) throw new LockfileError(`${at}: no variants`);
    const variants: KernelLock['variants'] = {};
    for (const [name, lock] of Object.entries(e.variants)) {
      const l = lock as { hash?: unknown; hash_type?: unknown };
      if (typeof l?.hash !== 'string' || !/^sha256-[0-9a-f]{64}$/.test(l.hash)) throw new LockfileError(`${at}.variants.${name}: hash must be sha256-<hex>`);
      if ((l.hash_type ?? 'git_lfs_concat') !== 'git_lfs_concat') throw new LockfileError(`${at}.variants.${name}: unsupported hash_type ${String(l.hash_type)}`);
      variants[name] = { hash: l.hash, hashType: 'git_lfs_concat' };
    }
    return { repoId: e.repo_id, commit: e.sha, variants, ...lockedSigners(e, at) };
  });
}

// Our fields sit beside `variants`, never inside its entries: the reference builds each variant's
// lock from every key of its entry (an unknown key fails it), and reads only repo_id, sha and
// variants of the kernel's entry (__test__/lock-identities.test.ts plays its rules).
const IDENTITY_KEYS = { issuer: 'issuer', source_repository: 'sourceRepository', workflow: 'workflow', ref: 'ref' } as const;

/** The identities and publisher list pin of a lock entry, read strictly (an unknown key is refused). */
function lockedSigners(entry: Record<string, unknown>, at: string): Pick<KernelLock, 'identities' | 'publisherList'> {
  const read: Pick<KernelLock, 'identities' | 'publisherList'> = {};
  const ids = entry.attestation_identities;
  if (ids !== undefined) {
    if (!Array.isArray(ids) || ids.length === 0) throw new LockfileError(`${at}.attestation_identities: a non-empty array of identities`);
    read.identities = ids.map((id, i) => {
      const where = `${at}.attestation_identities[${i}]`;
      if (typeof id !== 'object' || id === null || Array.isArray(id)) throw new LockfileError(`${where}: an object`);
      const identity: Record<string, string> = {};
      for (const [key, value] of Object.entries(id as Record<string, unknown>)) {
        const field = IDENTITY_KEYS[key as keyof typeof IDENTITY_KEYS];
        if (!field) throw new LockfileError(`${where}: unknown key ${JSON.stringify(key)} (known: ${Object.keys(IDENTITY_KEYS).join(', ')})`);
        if (typeof value !== 'string' || value === '') throw new LockfileError(`${where}.${key}: a non-empty string`);
        identity[field] = value;
      }
      if (identity.issuer === undefined) throw new LockfileError(`${where}: no issuer`);
      return identity as unknown as LockedIdentity;
    });
  }
  const list = entry.publisher_list;
  if (list !== undefined) {
    const l = list as Record<string, unknown>;
    const keys = typeof l === 'object' && l !== null ? Object.keys(l).sort().join(',') : '';
    if (keys !== 'min_targets_version,root_digest') throw new LockfileError(`${at}.publisher_list: exactly root_digest and min_targets_version`);
    if (typeof l.root_digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(l.root_digest)) throw new LockfileError(`${at}.publisher_list.root_digest: sha256:<64 hex digits>`);
    if (!Number.isSafeInteger(l.min_targets_version) || (l.min_targets_version as number) < 1) throw new LockfileError(`${at}.publisher_list.min_targets_version: a whole number, 1 or more`);
    read.publisherList = { rootDigest: l.root_digest, minTargetsVersion: l.min_targets_version as number };
  }
  return read;
}

/** The identity a lock records for a verified signer: issuer, source repository, workflow, ref as its certificate states them. */
export function lockedIdentity(signer: { issuer?: string; sourceRepository?: string; workflow?: string; ref?: string }): LockedIdentity | undefined {
  if (!signer.issuer) return undefined;
  return {
    issuer: signer.issuer,
    ...(signer.sourceRepository ? { sourceRepository: signer.sourceRepository } : {}),
    ...(signer.workflow ? { workflow: signer.workflow } : {}),
    ...(signer.ref ? { ref: signer.ref } : {}),
  };
}

/** Whether a signer is `identity`: each field the lock records, equal (the source repository without case, as GitHub compares names). */
export function matchesLockedIdentity(identity: LockedIdentity, signer: { issuer?: string; sourceRepository?: string; workflow?: string; ref?: string }): boolean {
  return (
    identity.issuer === signer.issuer &&
    (identity.sourceRepository === undefined || identity.sourceRepository.toLowerCase() === signer.sourceRepository?.toLowerCase()) &&
    (identity.workflow === undefined || identity.workflow === signer.workflow) &&
    (identity.ref === undefined || identity.ref === signer.ref)
  );
}

/** Writes a `kernels.lock` in the reference's format, replacing the file atomically. */
export async function writeLockfile(path: string, locks: readonly KernelLock[]): Promise<void> {
  const json = locks.map((lock) => ({
    repo_id: lock.repoId,
    sha: lock.commit,
    variants: Object.fromEntries(Object.entries(lock.variants).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, v]) => [name, { hash: v.hash, hash_type: v.hashType }])),
    ...(lock.identities?.length
      ? { attestation_identities: lock.identities.map((id) => ({ issuer: id.issuer, source_repository: id.sourceRepository, workflow: id.workflow, ref: id.ref })) }
      : {}),
    ...(lock.publisherList ? { publisher_list: { root_digest: lock.publisherList.rootDigest, min_targets_version: lock.publisherList.minTargetsVersion } } : {}),
  }));
  await writeFileAtomic(path, `${JSON.stringify(json, null, 2)}\n`);
}

/**
 * The lock of `repoId` at `commit` for every variant the listing has; with the identities that
 * signed it (`lockedIdentity` of each verified signer) and the publisher list that trusted them.
 */
export function lockFromListing(repoId: string, commit: string, files: readonly HubFile[], signed: Pick<KernelLock, 'identities' | 'publisherList'> = {}): KernelLock {
  const variants = [...new Set(files.filter((f) => f.path.startsWith('build/')).map((f) => f.path.split('/')[1]!))].sort();
  const identities = uniqueIdentities(signed.identities ?? []);
  return {
    repoId,
    commit,
    variants: Object.fromEntries(variants.map((v) => [v, { hash: variantLockHash(files, v), hashType: 'git_lfs_concat' as const }])),
    ...(identities.length > 0 ? { identities } : {}),
    ...(signed.publisherList ? { publisherList: signed.publisherList } : {}),
  };
}

function uniqueIdentities(identities: readonly LockedIdentity[]): LockedIdentity[] {
  const seen = new Map<string, LockedIdentity>();
  for (const id of identities) seen.set(JSON.stringify([id.issuer, id.sourceRepository?.toLowerCase(), id.workflow, id.ref]), id);
  return [...seen.values()];
}
