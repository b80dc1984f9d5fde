import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import type { Digest } from '../../digest/digest.js';
import { listVariantTree } from '../../hashing/variant-files.js';
import { listedVariants, type HubFile } from './hub-client.js';
import { claimedKind, fileObjectId, objectId } from './object-id.js';
import { isJSONObject } from '../../json/json-object.js';
import { readStrictJSONFile } from '../../json/strict-json.js';
import { isCommit } from '../../commit.js';

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
  return lockHash(files.filter((file) => file.path.startsWith(prefix)).map((file) => [file.path.slice(prefix.length), file.lfsSha256 ?? file.blobId]));
}

/** The git_lfs_concat sum of `[key, object ID in hex]` pairs. */
function lockHash(objects: ReadonlyArray<readonly [key: string, id: string]>): string {
  const entries = objects.map(([key, id]) => [Buffer.from(key, 'utf8'), Buffer.from(id, 'hex')] as const).sort(([a], [b]) => Buffer.compare(a, b));
  const hash = createHash('sha256');
  for (const [path, id] of entries) hash.update(path).update(id);
  return `sha256-${hash.digest('hex')}`;
}

/**
 * The variant hash of the variant at `dir` as the cache holds it (offline, or with the Hub out of
 * reach): the same sum over each file's path and object ID, the IDs taken from the files
 * themselves, never from their names. The Hugging Face cache names each blob by its ID, so a
 * name's length says the kind (claimedKind); a file whose kind cannot be told (not a link to a
 * blob so named) or whose content is not the object its name says is refused, named.
 *
 * `metadataBytes` are the bytes whose signature was verified: metadata.json's ID is theirs, so a
 * matching hash pins the signed digest, which pins every other file's content. So an LFS file's
 * ID, the SHA-256 of its content, is taken from that digest (when it is SHA-256): the file is
 * checked against it by the verification that follows, as every file is. The others are hashed.
 * What kernelseal never downloads (bytecode the listing may hold) is not in the cache: a lock
 * whose hash covered such files cannot be checked offline, and is refused.
 */
export async function cachedVariantLockHash(dir: string, metadataBytes: Uint8Array, digest: Digest): Promise<string> {
  const { entries } = await listVariantTree(dir).catch((error: Error) => {
    throw new LockfileError(`${dir}: ${error.message}`, { cause: error });
  });
  const keys = [...entries.map((entry) => entry.key), 'metadata.json', ...(existsSync(join(dir, 'metadata.json.sigstore')) ? ['metadata.json.sigstore'] : [])];
  const objects = await Promise.all(
    keys.map(async (key) => {
      const name = basename((await readlink(join(dir, key)).catch(() => '')) || '');
      const kind = claimedKind(name);
      if (!kind) throw new LockfileError(`${join(dir, key)}: not a link to a blob of the cache named by its object ID: cannot tell its ID`);
      const signed = kind === 'lfs' && digest.algorithm === 'sha256' ? digest.files.get(key) : undefined;
      const id =
        key === 'metadata.json' ? objectId(metadataBytes, kind) : signed !== undefined ? Buffer.from(signed, 'base64').toString('hex') : await fileObjectId(join(dir, key), kind);
      if (id !== name) throw new LockfileError(`${join(dir, key)}: the blob ${name} holds another object (${id ?? 'unreadable'})`);
      return [key, id] as const;
    }),
  );
  return lockHash(objects);
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
      if (!isJSONObject(id)) throw new LockfileError(`${where}: an object`);
      const identity: Record<string, string> = {};
      for (const [key, value] of Object.entries(id)) {
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
    const l = isJSONObject(list) ? list : {};
    const keys = Object.keys(l).sort().join(',');
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
  const variants = listedVariants(files);
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
