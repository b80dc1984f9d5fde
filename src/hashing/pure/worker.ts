// A worker thread of the pure backend: hashes the files it is sent, synchronously, into one
// reused buffer, and reports bytes and files done through shared counters. Every rule about a
// single file (special files refused, files that change refused) lives in hashFileSync.
import { parentPort } from 'node:worker_threads';
import { hashFileSync, type FileRange } from './file.js';
import type { DigestAlgorithm } from '../../digest/algorithm.js';

/**
 * A batch of files to hash. `counters` is [bytes done, files done, stop flag]; each digest goes
 * into `digests` (shared, one slot per file of the job) at its index.
 */
export interface WorkerTask {
  id: number;
  algorithm: DigestAlgorithm;
  files: Array<{ index: number; path: string; range?: FileRange }>;
  counters: SharedArrayBuffer;
  digests: SharedArrayBuffer;
}

export interface WorkerFailure {
  index: number;
  error: { code: string; path: string; reason: string } | { message: string };
}

export interface WorkerReply {
  id: number;
  failure?: WorkerFailure;
}

const CHUNK = 1024 * 1024;
const buffer = Buffer.allocUnsafe(CHUNK);

parentPort!.on('message', (task: WorkerTask) => {
  const counters = new BigInt64Array(task.counters);
  const digests = new Uint8Array(task.digests);
  let failure: WorkerFailure | undefined;
  for (const { index, path, range } of task.files) {
    if (Atomics.load(counters, 2) !== 0n) break; // cancelled, or another file failed
    try {
      const digest = hashFileSync(path, task.algorithm, buffer, (bytes) => Atomics.add(counters, 0, BigInt(bytes)), () => Atomics.load(counters, 2) !== 0n, range);
      if (digest === undefined) break;
      digests.set(digest, index * digest.length);
      Atomics.add(counters, 1, 1n);
    } catch (error) {
      const { code, path: errorPath, reason, message } = error as { code?: string; path?: string; reason?: string; message?: string };
      failure = { index, error: code && errorPath !== undefined && reason !== undefined ? { code, path: errorPath, reason } : { message: String(message ?? error) } };
      Atomics.store(counters, 2, 2n); // the digest is incomplete anyway: stop the others
      break;
    }
  }
  parentPort!.postMessage({ id: task.id, failure } satisfies WorkerReply);
});
