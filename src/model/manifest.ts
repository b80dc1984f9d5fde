import { createHash } from 'node:crypto';

/** The content hashes model signing offers (`hash_type`). `blake2b` is BLAKE2b-512. */
export type ModelHashType = 'sha256' | 'blake2b' | 'blake3';

export const MODEL_HASH_TYPES: readonly ModelHashType[] = ['sha256', 'blake2b', 'blake3'];

/** The model_signing default shard size: 1 GB (10^9 bytes, not 2^30). */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;

/** How a model was hashed: `predicate.serialization` of the signed statement. */
export interface Serialization {
  /** `files`: one digest per file; `shards`: one per `shardSize`-byte piece of each file. */
  method: 'files' | 'shards';
  hashType: ModelHashType;
  /** Whether symlinks were followed (hashed as their target's bytes) or refused. */
  allowSymlinks: boolean;
  shardSize?: number;
  /** Model-relative paths left out (each with everything below it), as recorded. */
  ignorePaths?: string[];
}

/**
 * One hashed item: a file (`name` its POSIX path from the model root, `.` for a single-file
 * model) or a shard (`path:start:end`, end exclusive), with its digest in lowercase hex.
 */
export interface Resource {
  name: string;
  algorithm: string;
  digest: string;
}

/** What a model signature states, or what hashing a model found. */
export interface ModelManifest {
  /** The signed subject's name: the model directory's (or file's) base name. */
  modelName: string;
  serialization: Serialization;
  /** In canonical order (see compareResourceNames). */
  resources: Resource[];
}

/** The resource algorithm model_signing writes: the hash, or `<hash>-sharded-<size>` for shards. */
export function resourceAlgorithm(serialization: Serialization): string {
  return serialization.method === 'shards' ? `${serialization.hashType}-sharded-${serialization.shardSize}` : serialization.hashType;
}

/** A shard resource name split: the file's path, and the byte range [start, end). */
export interface ShardName {
  path: string;
  start: number;
  end: number;
}

/**
 * Splits `path:start:end`, taking the last two fields (a path may itself hold colons, as the
 * specification notes). Undefined unless start and end are decimal integers with start < end.
 */
export function parseShardName(name: string): ShardName | undefined {
  const match = /^(.+):(0|[1-9][0-9]*):([1-9][0-9]*)$/.exec(name);
  if (!match) return undefined;
  const [, path, start, end] = match as unknown as [string, string, string, string];
  const range = { path, start: Number(start), end: Number(end) };
  return Number.isSafeInteger(range.end) && range.start < range.end ? range : undefined;
}

/** The file a resource belongs to: its name, or the path part of a shard's name. */
export function resourcePath(name: string, method: Serialization['method']): string {
  return method === 'shards' ? (parseShardName(name)?.path ?? name) : name;
}

/**
 * The reference's order (Python sorts `PurePosixPath` keys, then shard ranges as numbers):
 * path components compared one by one by code point, then start, then end. Plain string
 * order differs (`a-b/c` < `a.txt` < `a/b` there, `a/b` < `a-b/c` < `a.txt` here), and so
 * does the root digest; verification never depends on it (see rootDigest).
 */
export function compareResourceNames(a: string, b: string, method: Serialization['method']): number {
  const left = method === 'shards' ? parseShardName(a) : undefined;
  const right = method === 'shards' ? parseShardName(b) : undefined;
  const byPath = comparePaths(left?.path ?? a, right?.path ?? b);
  if (byPath !== 0 || !left || !right) return byPath;
  return left.start - right.start || left.end - right.end;
}

function comparePaths(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = compareCodePoints(left[i]!, right[i]!);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

/** Code point order: JavaScript's `<` compares UTF-16 units, which misplaces U+10000 and up. */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/**
 * The subject digest: SHA-256 over the raw digests of the resources, in the order given (the
 * statement's order when verifying: implementations order resources differently, and each
 * hashes them as listed). Always SHA-256, whatever the hash type.
 */
export function rootDigest(resources: readonly Resource[]): string {
  const hash = createHash('sha256');
  for (const resource of resources) hash.update(Buffer.from(resource.digest, 'hex'));
  return hash.digest('hex');
}
