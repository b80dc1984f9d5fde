import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

/**
 * The machine's compute limit for an algorithm: OpenSSL (node:crypto) hashing an in-memory
 * buffer on every core at once, in bytes per second. No I/O: what no file hasher can beat.
 */
export async function computeLimit(algorithm: 'sha256' | 'sha512', seconds = 1, threads = availableParallelism()): Promise<number> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHash } = require('node:crypto');
    const buffer = Buffer.alloc(16 * 1024 * 1024, 7);
    const deadline = performance.now() + workerData.seconds * 1000;
    let bytes = 0;
    const started = performance.now();
    while (performance.now() < deadline) {
      createHash(workerData.algorithm).update(buffer).digest();
      bytes += buffer.length;
    }
    parentPort.postMessage(bytes / ((performance.now() - started) / 1000));`;
  const rates = await Promise.all(
    Array.from({ length: threads }, () => {
      const worker = new Worker(source, { eval: true, workerData: { algorithm, seconds } });
      return new Promise<number>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  return rates.reduce((sum, rate) => sum + rate, 0);
}
