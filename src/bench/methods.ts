import { execFile, spawn } from 'node:child_process';
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

/**
 * The seconds from starting `program` to its exit, `input` (if any) on its standard input and
 * its output thrown away; fails unless it exits 0.
 */
export function timedProcess(program: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve((performance.now() - started) / 1000);
      else reject(new Error(`bench: ${program} ${args.slice(0, 3).join(' ')} exited ${code}: ${stderr.trim()}`));
    });
    child.stdin?.end(options.input);
  });
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
 * The native backend in a child process with `env` (what it changes is read once per process),
 * timed inside it, as `native` is: no process start counted.
 */
function nativeInChild(name: string, env: NodeJS.ProcessEnv, supports: Method['supports']): Method {
  return {
    name,
    supports,
    run: async (algorithm, dir) => {
      const script = `
        const { createNativeBackend } = await import(${JSON.stringify(new URL('../index.js', import.meta.url).href)});
        const backend = createNativeBackend();
        const started = performance.now();
        await backend.hashVariant(${JSON.stringify(algorithm)}, ${JSON.stringify(dir)});
        console.log((performance.now() - started) / 1000);`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env } });
      return Number(stdout.trim());
    },
  };
}

/**
 * The native backend restricted to one thread (RAYON_NUM_THREADS=1): the reference for how much
 * BLAKE3 gains from all cores.
 */
export const nativeOneThreadMethod = nativeInChild('native-1-thread', { RAYON_NUM_THREADS: '1' }, (algorithm, dataset) => algorithm === 'blake3' && dataset.files.length === 1);

/**
 * The native backend reading every file (KERNELSEAL_MMAP=0) where `native` maps those of 4 MiB
 * and more (crates/engine/src/mapped.rs): what mapping gains, or costs, on this machine. Only
 * on data sets with such files.
 */
export const nativeReadMethod = nativeInChild('native-read', { KERNELSEAL_MMAP: '0' }, (_, dataset) => dataset.files.some((file) => file.size >= 4 * 1024 * 1024));
