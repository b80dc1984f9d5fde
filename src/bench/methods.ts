import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { opensslName, type DigestAlgorithm } from '../digest/algorithm.js';
import type { DigestBackend } from '../hashing/backend.js';
import { hashModel } from '../model/hash-model.js';
import { DEFAULT_SHARD_SIZE, type ModelHashType } from '../model/manifest.js';
import type { Dataset } from './datasets.js';

/**
 * What one run took: the seconds from start to end, and the CPU time (user and system, every
 * thread) it used meanwhile. On a shared host the first swings with the neighbours' load; the
 * second much less, so the two side by side say what the code costs and what the host gave.
 */
export interface Timing {
  seconds: number;
  cpuSeconds: number;
}

/** One way of hashing a data set. */
export interface Method {
  name: string;
  supports(algorithm: DigestAlgorithm, dataset: Dataset): boolean;
  run(algorithm: DigestAlgorithm, dir: string, dataset: Dataset): Promise<Timing>;
}

/** The seconds `work` takes. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  return (await timedInProcess(work)).seconds;
}

/** The seconds `work` takes, and the CPU time this process (every thread of it) used meanwhile. */
export async function timedInProcess(work: () => Promise<unknown>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const { user, system } = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (user + system) / 1e6 };
}

/**
 * Runs `program` to its exit, `input` (if any) on its standard input and its output thrown
 * away: the seconds from its start, and the CPU time it and the processes it waited for used
 * (a shell's \`times\` after it, on a descriptor of its own: bash's, to the microsecond, where
 * installed; a POSIX shell's counts in hundredths). The shell's start is in the seconds: a few
 * milliseconds, which `runPlain` leaves out. Fails unless it exits 0.
 */
export function timedProcess(program: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const script = '"$@"; status=$?; times >&3; exit $status';
    const child = spawn(SHELL, ['-c', script, 'sh', program, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let times = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8').on('data', (chunk: string) => (times += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      // Two lines, "0m0.001s 0m0.002s": the shell's user and system time, then its children's.
      const children = times.trim().split('\n')[1]?.match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
      if (code !== 0) reject(new Error(`bench: ${program} ${args.slice(0, 3).join(' ')} exited ${code}: ${stderr.trim()}`));
      else if (!children) reject(new Error(`bench: no CPU times after ${program}: ${JSON.stringify(times)}`));
      else resolve({ seconds, cpuSeconds: Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4]) });
    });
    child.stdin?.end(options.input);
  });
}

const SHELL = spawnSync('bash', ['-c', 'times'], { stdio: 'ignore' }).status === 0 ? 'bash' : 'sh';

/** The seconds from starting `program` (no shell) to its exit, its output thrown away; fails unless it exits 0. */
export function runPlain(program: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`bench: ${program} ${args.join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}

/** A digest backend hashing the data set as a variant. */
export function backendMethod(backend: DigestBackend): Method {
  return {
    name: backend.name,
    supports: () => true,
    run: (algorithm, dir) => timedInProcess(() => backend.hashVariant(algorithm, dir)),
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
      timedInProcess(() =>
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
    timedInProcess(async () => {
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
        const cpu = process.cpuUsage();
        const started = performance.now();
        await backend.hashVariant(${JSON.stringify(algorithm)}, ${JSON.stringify(dir)});
        const seconds = (performance.now() - started) / 1000;
        const { user, system } = process.cpuUsage(cpu);
        console.log(JSON.stringify({ seconds, cpuSeconds: (user + system) / 1e6 }));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env } });
      return JSON.parse(stdout) as Timing;
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
