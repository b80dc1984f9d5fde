import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DIGEST_LENGTH } from '../digest/algorithm.js';
import type { DigestBackend, HashOptions } from '../hashing/backend.js';
import { digestBackend } from '../hashing/select-backend.js';
import { resourceAlgorithm, type ModelManifest, type Resource, type Serialization } from './manifest.js';
import { listModelFiles, modelName, type ModelFile } from './model-files.js';

export interface HashModelOptions extends HashOptions {
  /** How to hash (hash type, files or shards, symlinks); `ignorePaths` is recorded as given. */
  serialization: Serialization;
  /** Every model-relative path to leave out, default ones included. */
  ignorePaths?: readonly string[];
  /** Hash only these files (by resource path), when present: verifying with unsigned files ignored. */
  only?: ReadonlySet<string>;
  backend?: DigestBackend;
}

/** A hashed model: its manifest, and how many bytes were read. */
export interface HashedModel extends ModelManifest {
  bytes: number;
}

/**
 * Hashes the model at `modelPath` (a directory, or a single file) as model_signing does: lists
 * its files (see listModelFiles), then hashes them, whole or in shards, on the digest backend
 * (all cores, never on the event loop). Resources come out in the reference's order.
 */
export async function hashModel(modelPath: string, options: HashModelOptions): Promise<HashedModel> {
  const { serialization } = options;
  let files: ModelFile[] = await listModelFiles(modelPath, { ignorePaths: options.ignorePaths, allowSymlinks: serialization.allowSymlinks });
  if (options.only) files = files.filter((file) => options.only!.has(file.name));
  const backend = options.backend ?? digestBackend();
  const shardSize = serialization.method === 'shards' ? serialization.shardSize : undefined;
  const hashes = await backend.hashFiles(
    serialization.hashType,
    files.map((file) => file.path),
    { shardSize, onProgress: options.onProgress, signal: options.signal },
  );
  const algorithm = resourceAlgorithm(serialization);
  const digestLength = DIGEST_LENGTH[serialization.hashType];
  const resources: Resource[] = [];
  let offset = 0;
  files.forEach((file, i) => {
    const size = hashes.sizes[i]!;
    const take = (name: string) => {
      resources.push({ name, algorithm, digest: Buffer.from(hashes.digests.subarray(offset, offset + digestLength)).toString('hex') });
      offset += digestLength;
    };
    if (shardSize === undefined) take(file.name);
    else for (let start = 0; start < size; start += shardSize) take(`${file.name}:${start}:${Math.min(start + shardSize, size)}`);
  });
  if (offset !== hashes.digests.length) throw new Error(`internal error: ${hashes.digests.length / digestLength} digests for ${resources.length} resources`);
  const resolved = await realpath(modelPath).catch(() => resolve(modelPath));
  // Files are listed in the reference's order, and each file's shards follow in order.
  return { modelName: modelName(modelPath, resolved), serialization, resources, bytes: hashes.bytes };
}
