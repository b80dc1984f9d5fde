import { Worker } from 'node:worker_threads';
import type { DigestAlgorithm } from '../digest/algorithm.js';
import { createHasher, nodeHasher, type Hasher } from './hasher.js';

/**
 * One hash of a stream: a digest algorithm, or SHA-1 (Git blob IDs), hashing `header` before
 * the stream (a Git blob ID hashes `blob <size>\0` first).
 */
export interface HashPart {
  algorithm: DigestAlgorithm | 'sha1';
  header?: string;
}

/**
 * Several hashes of one stream of bytes, in order, restartable. `update` may wait (a hasher on
 * another thread takes a bounded number of bytes at a time): the caller awaits it before
 * sending more. `close` frees the hasher and must always be called, also after `digest`.
 */
export interface StreamHasher {
  update(data: Uint8Array): Promise<void>;
  /** Forget every byte so far: the stream starts again (a server sent a whole file, not the rest). */
  restart(): void;
  /** The raw digests, one per part, in order. */
  digest(): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

/**
 * Streams at least this long are hashed on a worker thread, so that the hashing overlaps the
 * read on another core; shorter ones inline, where hashing costs less than a worker. Measured on
 * the 2-core bench machine: starting a worker and its first answer take 40-75 ms; SHA-256 runs
 * at 0.69 GB/s on one core (`kernelseal bench`, compute limit), so 32 MiB takes about 50 ms.
 */
export const OFF_THREAD_BYTES = 32 * 1024 * 1024;
/** Bytes sent to the worker at once: few messages, each hashed while the next is filled. */
const BATCH_BYTES = 4 * 1024 * 1024;
/**
 * Batches in flight at most (the backpressure): 64 MiB per stream hashed off-thread. On the
 * shared 2-core bench machine a window of 4 (16 MiB) stalled the download whenever the worker
 * was not scheduled (1 GiB first load x1.58-x1.79 of a plain download, against x1.25-x1.39 with 16).
 */
const BATCHES = 16;

/** A hasher for a stream of `size` bytes: on a worker thread for large streams, inline otherwise. */
export function createStreamHasher(parts: HashPart[], size: number): StreamHasher {
  return size >= OFF_THREAD_BYTES ? new WorkerStreamHasher(parts) : inlineStreamHasher(parts);
}

/** The hashers of `parts`, their headers hashed: one home for both the inline and the worker hasher. */
export function startParts(parts: HashPart[]): Hasher[] {
  return parts.map((part) => {
    const hasher: Hasher = part.algorithm === 'sha1' ? nodeHasher('sha1') : createHasher(part.algorithm);
    if (part.header !== undefined) hasher.update(Buffer.from(part.header, 'latin1'));
    return hasher;
  });
}

function inlineStreamHasher(parts: HashPart[]): StreamHasher {
  let hashers = startParts(parts);
  const dispose = () => hashers.forEach((h) => h.dispose());
  return {
    async update(data) {
      for (const h of hashers) h.update(data);
    },
    restart() {
      dispose();
      hashers = startParts(parts);
    },
    async digest() {
      const digests = hashers.map((h) => h.digest());
      hashers = [];
      return digests;
    },
    async close() {
      dispose();
      hashers = [];
    },
  };
}

/** Main thread → worker (src/hashing/stream-hasher-worker.ts). */
export type ToWorker = { type: 'data'; buffer: ArrayBuffer; length: number } | { type: 'restart' } | { type: 'digest' };
/** Worker → main thread: a batch hashed (its buffer handed back for reuse), or the digests. */
export type FromWorker = { type: 'free'; buffer: ArrayBuffer } | { type: 'digest'; digests: Uint8Array[] };

/**
 * Hashes on a worker thread. Bytes are copied into batches of BATCH_BYTES, each transferred
 * to the worker and handed back once hashed; with all BATCHES out, `update` waits. Messages
 * arrive in order, so the worker hashes exactly the bytes given, in order. Any failure of the
 * worker (an error, an exit) rejects the next `update` or `digest`: the stream is not accepted.
 */
class WorkerStreamHasher implements StreamHasher {
  private readonly worker: Worker;
  private readonly free: ArrayBuffer[] = [];
  private allocated = 0;
  private batch: Uint8Array | undefined;
  private filled = 0;
  private failure: Error | undefined;
  private closed = false;
  private digests: Uint8Array[] | undefined;
  /** The one wait in progress (for a free batch, or the digests), woken by the worker's next message. */
  private waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(parts: HashPart[]) {
    this.worker = new Worker(new URL('./stream-hasher-worker.js', import.meta.url), { workerData: parts });
    this.worker.on('message', (message: FromWorker) => {
      if (message.type === 'free') this.free.push(message.buffer);
      else this.digests = message.digests;
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.resolve();
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('messageerror', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the hashing worker exited (code ${code})`)));
  }

  async update(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      this.check();
      if (!this.batch) {
        this.batch = new Uint8Array(await this.freeBuffer());
        this.filled = 0;
      }
      const n = Math.min(data.length - offset, this.batch.length - this.filled);
      this.batch.set(data.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.batch.length) this.send();
    }
  }

  restart(): void {
    if (this.batch) this.free.push(this.batch.buffer as ArrayBuffer);
    this.batch = undefined;
    this.post({ type: 'restart' });
  }

  async digest(): Promise<Uint8Array[]> {
    this.check();
    if (this.batch && this.filled > 0) this.send();
    this.digests = undefined;
    this.post({ type: 'digest' });
    while (!this.digests) await this.nextMessage();
    return this.digests;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting?.reject(new Error('the hashing worker was closed'));
    this.waiting = undefined;
    await this.worker.terminate();
  }

  private send(): void {
    const buffer = this.batch!.buffer as ArrayBuffer;
    this.post({ type: 'data', buffer, length: this.filled }, [buffer]);
    this.batch = undefined;
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.check();
    this.worker.postMessage(message, transfer);
  }

  private async freeBuffer(): Promise<ArrayBuffer> {
    if (this.free.length === 0 && this.allocated < BATCHES) {
      this.allocated++;
      return new ArrayBuffer(BATCH_BYTES);
    }
    while (this.free.length === 0) await this.nextMessage();
    return this.free.pop()!;
  }

  private nextMessage(): Promise<void> {
    this.check();
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.failure ??= new Error(`hashing off the main thread failed: ${error.message}`);
    this.waiting?.reject(this.failure);
    this.waiting = undefined;
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('the hashing worker was closed');
  }
}
