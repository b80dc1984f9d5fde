import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import type { Digest } from '../../digest/digest.js';
import { listVariantTree } from '../../hashing/variant-files.js';
import type { HubFile } from './hub-client.js';
import { claimedKind, fileObjectId, objectId } from './object-id.js';
import { parseStrictJSON } from '../../json/strict-json.js';

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
    const e = entry as { repo_id?: unknown; sha?: unknown; variants?: unknown };
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
