import { unsafePathReason } from '../fs/relative-path.js';
import { isJSONObject } from '../json/json-object.js';
import { parseStrictJSON } from '../json/strict-json.js';
import {
  MODEL_HASH_TYPES,
  compareResourceNames,
  parseShardName,
  resourceAlgorithm,
  rootDigest,
  type ModelHashType,
  type ModelManifest,
  type Resource,
  type Serialization,
  type ShardName,
} from './manifest.js';
import { PythonFloat, toPythonJSON } from './python-json.js';
import { IN_TOTO_STATEMENT_V1 } from '../sigstore/in-toto.js';

/** The model signing predicate, from model_signing v0.3 on (OMS v1.0). */
export const MODEL_SIGNATURE_PREDICATE = 'https://model_signing/signature/v1.0';
/** model_signing v0.2's predicate: one subject per file, no serialization. Read, never written. */
export const LEGACY_DIGESTS_PREDICATE = 'https://model_signing/Digests/v0.1';

/** The signed statement does not describe a model the way OMS v1.0 says; the message says how. */
export class StatementError extends Error {
  override readonly name = 'StatementError';
  readonly code = 'STATEMENT_INVALID' as const;
}

const HEX_LENGTH: Record<ModelHashType, number> = { sha256: 64, blake2b: 128, blake3: 64 };

/**
 * The in-toto statement signing `manifest`, keys in the order of the reference's golden
 * payloads. `ignore_paths` (sorted) is written when recorded, as model_signing 1.1 does.
 */
export function buildStatement(manifest: ModelManifest): Record<string, unknown> {
  const { serialization, resources } = manifest;
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: manifest.modelName, digest: { sha256: rootDigest(resources) } }],
    predicateType: MODEL_SIGNATURE_PREDICATE,
    predicate: {
      serialization: {
        method: serialization.method,
        hash_type: serialization.hashType,
        allow_symlinks: serialization.allowSymlinks,
        shard_size: serialization.method === 'shards' ? new PythonFloat(serialization.shardSize!) : undefined,
        ignore_paths: serialization.ignorePaths ? [...serialization.ignorePaths].sort() : undefined,
      },
      resources: resources.map(({ algorithm, digest, name }) => ({ algorithm, digest, name })),
    },
  };
}

/** The payload bytes of a model signature: the statement as the reference writes it. */
export function statementPayload(manifest: ModelManifest): Buffer {
  return Buffer.from(toPythonJSON(buildStatement(manifest)), 'utf8');
}

/**
 * Reads a signed statement (only ever after its signature verified) into the manifest it
 * states, strictly: the OMS v1.0 schema (no unknown keys in the statement, predicate or
 * serialization; one subject; lowercase hex digests of the hash's length), resource names that
 * are safe relative paths (or shard names), each once, with the algorithm the serialization
 * implies, shards that cut each file from 0 in `shard_size` pieces, and a subject digest that
 * is the root digest of the resources as listed. The v0.1 predicate of model_signing v0.2 is
 * read too (it has no root digest to check); `legacyEncoding` (a signature over v0.2's
 * encoding) allows only that one.
 */
export function parseStatement(payload: Uint8Array, options: { legacyEncoding?: boolean } = {}): ModelManifest {
  const statement = parseStrictJSON(payload, (error) => new StatementError(`the signed statement: ${error.message}`, { cause: error }));
  const root = object(statement, 'the statement');
  if (root._type !== IN_TOTO_STATEMENT_V1) throw new StatementError(`_type must be ${IN_TOTO_STATEMENT_V1} (got ${JSON.stringify(root._type)})`);
  if (root.predicateType === LEGACY_DIGESTS_PREDICATE) return parseLegacyStatement(root);
  // The v0.2 encoding was only ever signed over v0.2 statements: it may not carry others.
  if (options.legacyEncoding) throw new StatementError("the signature uses model_signing v0.2's encoding, which only signs v0.2 statements");
  if (root.predicateType !== MODEL_SIGNATURE_PREDICATE) {
    throw new StatementError(`predicateType must be ${MODEL_SIGNATURE_PREDICATE} (got ${JSON.stringify(root.predicateType)}): not a model signature`);
  }
  onlyKeys(root, ['_type', 'subject', 'predicateType', 'predicate'], 'the statement');
  if (!Array.isArray(root.subject) || root.subject.length !== 1) throw new StatementError('the statement must have exactly one subject');
  const subject = object(root.subject[0], 'the subject');
  if (typeof subject.name !== 'string' || subject.name === '') throw new StatementError('the subject has no name');
  const subjectDigest = object(subject.digest, 'the subject digest').sha256;
  if (typeof subjectDigest !== 'string' || !/^[0-9a-f]{64}$/.test(subjectDigest)) throw new StatementError('the subject has no sha256 digest (64 lowercase hex digits)');

  const predicate = object(root.predicate, 'the predicate');
  onlyKeys(predicate, ['serialization', 'resources'], 'the predicate');
  const serialization = parseSerialization(object(predicate.serialization, 'predicate.serialization'));
  if (!Array.isArray(predicate.resources)) throw new StatementError('predicate.resources must be an array');
  const resources = predicate.resources.map((item, i) => parseResource(item, i, serialization));
  checkUnique(resources);
  if (serialization.method === 'shards') checkShardsTile(resources, serialization.shardSize!);
  const computed = rootDigest(resources);
  if (computed !== subjectDigest) {
    throw new StatementError(`the subject digest ${subjectDigest} is not the root digest of the listed resources (${computed}): the manifest is inconsistent`);
  }
  return { modelName: subject.name, serialization, resources: sortResources(resources, serialization.method) };
}

function parseSerialization(raw: Record<string, unknown>): Serialization {
  onlyKeys(raw, ['method', 'hash_type', 'allow_symlinks', 'shard_size', 'ignore_paths'], 'predicate.serialization');
  const { method, hash_type: hashType, allow_symlinks: allowSymlinks, shard_size: shardSize, ignore_paths: ignorePaths } = raw;
  if (method !== 'files' && method !== 'shards') throw new StatementError(`serialization.method must be files or shards (got ${JSON.stringify(method)})`);
  if (!MODEL_HASH_TYPES.includes(hashType as ModelHashType)) {
    throw new StatementError(`serialization.hash_type must be one of ${MODEL_HASH_TYPES.join(', ')} (got ${JSON.stringify(hashType)})`);
  }
  if (typeof allowSymlinks !== 'boolean') throw new StatementError('serialization.allow_symlinks must be true or false');
  if (method === 'shards' && !(Number.isSafeInteger(shardSize) && (shardSize as number) > 0)) {
    throw new StatementError(`serialization.shard_size must be a positive whole number of bytes (got ${JSON.stringify(shardSize)})`);
  }
  if (method === 'files' && shardSize !== undefined) throw new StatementError('serialization.shard_size is only for the shards method');
  if (ignorePaths !== undefined && !(Array.isArray(ignorePaths) && ignorePaths.every((p) => typeof p === 'string' && safeRelativePath(p)))) {
    throw new StatementError('serialization.ignore_paths must be relative paths inside the model');
  }
  return {
    method,
    hashType: hashType as ModelHashType,
    allowSymlinks,
    ...(method === 'shards' ? { shardSize: shardSize as number } : {}),
    ...(ignorePaths !== undefined ? { ignorePaths: ignorePaths as string[] } : {}),
  };
}

function parseResource(item: unknown, index: number, serialization: Serialization): Resource {
  const where = `predicate.resources[${index}]`;
  const raw = object(item, where);
  const { name, algorithm, digest } = raw;
  if (typeof name !== 'string' || name === '') throw new StatementError(`${where} has no name`);
  const path = serialization.method === 'shards' ? parseShardName(name)?.path : name;
  if (path === undefined) throw new StatementError(`${where}: ${JSON.stringify(name)} is not a shard name (path:start:end)`);
  if (path !== '.' && !safeRelativePath(path)) throw new StatementError(`${where}: ${JSON.stringify(name)} is not a relative path inside the model`);
  // The reference writes `<hash>-sharded-<size>` for shards; the specification the plain hash.
  const accepted = new Set([serialization.hashType, resourceAlgorithm(serialization)]);
  if (typeof algorithm !== 'string' || !accepted.has(algorithm)) {
    throw new StatementError(`${where} (${name}): algorithm ${JSON.stringify(algorithm)} does not match the serialization (${[...accepted].join(' or ')})`);
  }
  const length = HEX_LENGTH[serialization.hashType];
  if (typeof digest !== 'string' || digest.length !== length || !/^[0-9a-f]+$/.test(digest)) {
    throw new StatementError(`${where} (${name}): digest must be ${length} lowercase hex digits`);
  }
  return { name, algorithm, digest };
}

/**
 * model_signing v0.2: each subject a file (`name`, `digest.sha256`), the predicate unused.
 * Read as sha256 file serialization without symlinks; there is no root digest.
 */
function parseLegacyStatement(root: Record<string, unknown>): ModelManifest {
  if (!Array.isArray(root.subject) || root.subject.length === 0) throw new StatementError('the statement has no subject');
  const resources = root.subject.map((item, i): Resource => {
    const where = `subject[${i}]`;
    const subject = object(item, where);
    const digest = object(subject.digest, `${where}.digest`).sha256;
    if (typeof subject.name !== 'string' || !safeRelativePath(subject.name)) throw new StatementError(`${where}: name is not a relative path inside the model`);
    if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) throw new StatementError(`${where} (${subject.name}): no sha256 digest`);
    return { name: subject.name, algorithm: 'sha256', digest };
  });
  checkUnique(resources);
  const serialization: Serialization = { method: 'files', hashType: 'sha256', allowSymlinks: false };
  return { modelName: '', serialization, resources: sortResources(resources, 'files') };
}

/** A path as the specification canonicalizes it (the rule: src/fs/relative-path.ts). */
export function safeRelativePath(path: string): boolean {
  return unsafePathReason(path) === undefined;
}

/**
 * Each file's shards must cover it from byte 0 without gap or overlap, each `shardSize` long
 * but the last: a manifest that skips a range would leave those bytes unchecked.
 */
function checkShardsTile(resources: readonly Resource[], shardSize: number): void {
  const files = new Map<string, ShardName[]>();
  for (const { name } of resources) {
    const shard = parseShardName(name)!;
    files.set(shard.path, [...(files.get(shard.path) ?? []), shard]);
  }
  for (const [path, shards] of files) {
    shards.sort((a, b) => a.start - b.start);
    shards.forEach((shard, k) => {
      const length = shard.end - shard.start;
      const last = k === shards.length - 1;
      if (shard.start !== k * shardSize || (last ? length > shardSize : length !== shardSize)) {
        throw new StatementError(`the shards of ${JSON.stringify(path)} do not cut it in ${shardSize}-byte pieces from byte 0 (at ${shard.start}:${shard.end})`);
      }
    });
  }
}

function checkUnique(resources: readonly Resource[]): void {
  const seen = new Set<string>();
  for (const { name } of resources) {
    if (seen.has(name)) throw new StatementError(`the resource ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
  }
}

function sortResources(resources: Resource[], method: Serialization['method']): Resource[] {
  return [...resources].sort((a, b) => compareResourceNames(a.name, b.name, method));
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (!isJSONObject(value)) throw new StatementError(`${what} must be an object`);
  return value;
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(value).find((key) => !allowed.includes(key));
  if (unknown !== undefined) throw new StatementError(`${what} has an unknown key ${JSON.stringify(unknown)}`);
}
