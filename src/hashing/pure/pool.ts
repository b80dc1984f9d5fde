import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DigestAlgorithm } from '../../digest/algorithm.js';
import { DigestError, type DigestErrorCode } from '../errors.js';
import { DIGEST_LENGTH } from '../../digest/algorithm.js';
import type { FileRange } from './file.js';
import type { WorkerFailure, WorkerReply, WorkerTask } from './worker.js';

/** A file (or a byte range of it) to hash, and the bytes to hash (for scheduling and progress). */
export interface PoolFile {
  path: string;
  size: number;
  range?: FileRange;
}

/** Shared counters of one job: bytes done, files done, and a stop flag (1 cancelled, 2 failed). */
export interface JobCounters {
  bytesDone(): number;
  filesDone(): number;
  cancel(): void;
}

/** A batch is at most this many bytes of small files (a large file goes alone)... */
const BATCH_BYTES = 8 * 1024 * 1024;
/** ...or this many files, so that one batch cannot hold back a big file for long. */
const BATCH_FILES = 256;

interface PoolWorker {
  worker: Worker;
  busy: boolean;
}

interface Job {
  algorithm: DigestAlgorithm;
  files: PoolFile[];
  /** Indices into `files`, largest first: big files start early and no core idles at the end. */
  order: number[];
  next: number;
  inFlight: number;
  /** One digest slot per file, written by the workers. */
  digests: SharedArrayBuffer;
  failure?: { index: number; error: Error };
  counters: SharedArrayBuffer;
  resolve: (digests: Uint8Array) => void;
  reject: (error: unknown) => void;
  cancelled: boolean;
}

/**
 * The pure backend's worker threads: one per core, started on first use, kept while the
 * process lives but never keeping it alive when idle. Files of concurrent jobs are handed out
 * in batches to whichever worker is free.
 */
export class HashPool {
  private workers: PoolWorker[] = [];
  private jobs: Job[] = [];
  private tasks = new Map<number, { job: Job; worker: PoolWorker; indices: number[] }>();
  private nextTask = 0;

  constructor(private readonly size = availableParallelism()) {}

  /**
   * Hashes `files`; resolves to their digests one after another in the order of `files`. The
   * returned counters report progress and cancel the job.
   */
  hash(algorithm: DigestAlgorithm, files: PoolFile[]): { done: Promise<Uint8Array>; counters: JobCounters } {
    const counters = new SharedArrayBuffer(3 * 8);
    const view = new BigInt64Array(counters);
    let job!: Job;
    const done = new Promise<Uint8Array>((resolve, reject) => {
      const order = files.map((_, i) => i).sort((a, b) => files[b]!.size - files[a]!.size);
      const digests = new SharedArrayBuffer(files.length * DIGEST_LENGTH[algorithm]);
      job = { algorithm, files, order, next: 0, inFlight: 0, digests, counters, resolve, reject, cancelled: false };
    });
    if (files.length === 0) job.resolve(new Uint8Array(0));
    else {
      this.jobs.push(job);
      this.dispatch();
    }
    return {
      done,
      counters: {
        bytesDone: () => Number(Atomics.load(view, 0)),
        filesDone: () => Number(Atomics.load(view, 1)),
        cancel: () => {
          job.cancelled = true;
          Atomics.compareExchange(view, 2, 0n, 1n);
          this.settleIfDone(job);
        },
      },
    };
  }

  /** Gives every free worker a batch from the oldest job that has work left. */
  private dispatch(): void {
    for (;;) {
      const job = this.jobs.find((j) => j.next < j.order.length && !j.cancelled && !j.failure);
      if (!job) return;
      const worker = this.freeWorker();
      if (!worker) return;
      const indices: number[] = [];
      let bytes = 0;
      while (job.next < job.order.length && indices.length < BATCH_FILES && (indices.length === 0 || bytes + job.files[job.order[job.next]!]!.size <= BATCH_BYTES)) {
        const index = job.order[job.next++]!;
        indices.push(index);
        bytes += job.files[index]!.size;
      }
      const id = this.nextTask++;
      this.tasks.set(id, { job, worker, indices });
      job.inFlight += 1;
      worker.busy = true;
      worker.worker.ref();
      const task: WorkerTask = {
        id,
        algorithm: job.algorithm,
        files: indices.map((index) => ({ index, path: job.files[index]!.path, range: job.files[index]!.range })),
        counters: job.counters,
        digests: job.digests,
      };
      worker.worker.postMessage(task);
    }
  }

  private freeWorker(): PoolWorker | undefined {
    const idle = this.workers.find((w) => !w.busy);
    if (idle) return idle;
    if (this.workers.length >= this.size) return undefined;
    // Workers inherit the process's Node options; --input-type (node -e scripts) is not valid for a file.
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
    const worker: PoolWorker = { worker: new Worker(new URL('./worker.js', import.meta.url), { execArgv }), busy: false };
    worker.worker.unref();
    worker.worker.on('message', (reply: WorkerReply) => this.onReply(worker, reply));
    worker.worker.on('error', (error) => this.onCrash(worker, error));
    this.workers.push(worker);
    return worker;
  }

  private onReply(worker: PoolWorker, reply: WorkerReply): void {
    const task = this.tasks.get(reply.id);
    this.tasks.delete(reply.id);
    worker.busy = false;
    worker.worker.unref();
    if (task) {
      task.job.inFlight -= 1;
      if (reply.failure) this.record(task.job, reply.failure);
      this.settleIfDone(task.job);
    }
    this.dispatch();
  }

  /** Keeps the failure of the file first in order, as the native backend reports. */
  private record(job: Job, failure: WorkerFailure): void {
    const e = failure.error;
    const error = 'code' in e ? new DigestError(e.code as DigestErrorCode, e.path, e.reason) : new Error(e.message);
    if (!job.failure || failure.index < job.failure.index) job.failure = { index: failure.index, error };
  }

  /** A worker died (out of memory, a bug): its tasks fail, it is replaced on demand. */
  private onCrash(worker: PoolWorker, error: Error): void {
    this.workers = this.workers.filter((w) => w !== worker);
    for (const [id, task] of this.tasks) {
      if (task.worker !== worker) continue;
      this.tasks.delete(id);
      task.job.inFlight -= 1;
      task.job.failure ??= { index: -1, error: new Error(`a hashing worker failed: ${error.message}`) };
      this.settleIfDone(task.job);
    }
    this.dispatch();
  }

  private settleIfDone(job: Job): void {
    if (job.inFlight > 0) return;
    const finished = job.next >= job.order.length;
    if (!job.cancelled && !job.failure && !finished) return;
    this.jobs = this.jobs.filter((j) => j !== job);
    if (job.failure) job.reject(job.failure.error);
    else if (job.cancelled) job.reject(new Error('cancelled'));
    else job.resolve(new Uint8Array(job.digests).slice()); // a private copy, off shared memory
  }
}
