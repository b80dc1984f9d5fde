import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { opensslName, type DigestAlgorithm } from '../digest/algorithm.js';
import type { DigestBackend } from '../hashing/backend.js';
import { hashModel } from '../model/hash-model.js';
import { DEFAULT_SHARD_SIZE, type ModelHashType } from '../model/manifest.js';
import type { Dataset } from './datasets.js';

/** One way of hashing a data set; resolves to the seconds it took. */
export interface Method {
  name: string;
  supports(algorithm: DigestAlgorithm, dataset: Dataset): boolean;
  run(algorithm: DigestAlgorithm, dir: string, dataset: Dataset): Promise<number>;
}

/** The seconds `work` takes. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** A digest backend hashing the data set as a variant. */
export function backendMethod(backend: DigestBackend): Method {
  return {
    name: backend.name,
    supports: () => true,
    run: (algorithm, dir) => timed(() => backend.hashVariant(algorithm, dir)),
  };
}

/**
 * Hashing a model directory as verify-model does (the model walk, then files whole or in
 * shards of 1 GB on the backend): only for the model data sets, with the model hash types.
 */
export function modelMethod(backend: DigestBackend, method: 'files' | 'shards'): Method {
  return {
    name: `model-${method}`,
    supports: (algorithm, dataset) => algorithm !== 'sha512' && dataset.name.endsWith('-model'),
    run: (algorithm, dir) =>
      timed(() =>
        hashModel(dir, {
          backend,
          serialization: { method, hashType: algorithm as ModelHashType, allowSymlinks: false, ...(method === 'shards' ? { shardSize: DEFAULT_SHARD_SIZE } : {}) },
        }),
      ),
  };
}

/** What a hurried user writes: one createReadStream + createHash per file, one at a time. */
export const naiveStreamMethod: Method = {
  name: 'naive-stream',
  supports: (algorithm) => algorithm !== 'blake3',
  run: (algorithm, dir, dataset) =>
    timed(async () => {
      for (const file of dataset.files) {
        const hash = createHash(opensslName(algorithm as Exclude<DigestAlgorithm, 'blake3'>));
        for await (const chunk of createReadStream(join(dir, file.path))) hash.update(chunk as Buffer);
        hash.digest();
      }
    }),
};

/**
 * The native backend restricted to one thread (RAYON_NUM_THREADS=1, in a child process: the
 * pool size is fixed per process): the reference for how much BLAKE3 gains from all cores.
 */
export const nativeOneThreadMethod: Method = {
  name: 'native-1-thread',
  supports: (algorithm, dataset) => algorithm === 'blake3' && dataset.files.length === 1,
  run: async (algorithm, dir) => {
    const script = `
      const { createNativeBackend } = await import(${JSON.stringify(new URL('../index.js', import.meta.url).href)});
      const backend = createNativeBackend();
      const started = performance.now();
      await backend.hashVariant(${JSON.stringify(algorithm)}, ${JSON.stringify(dir)});
      console.log((performance.now() - started) / 1000);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, RAYON_NUM_THREADS: '1' },
    });
    return Number(stdout.trim());
  },
};
