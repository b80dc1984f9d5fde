import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { opensslName, type DigestAlgorithm } from '../digest/algorithm.js';

/**
 * The machine's compute limit for SHA-2 (or BLAKE2b): OpenSSL (node:crypto) hashing a 16 MiB in-memory
 * buffer on `threads` threads at once, in bytes per second. No I/O: what no file hasher can
 * beat. With `threads` 1, the limit of one core.
 */
export async function computeLimit(algorithm: Exclude<DigestAlgorithm, 'blake3'>, threads = availableParallelism(), seconds = 1): Promise<number> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHash } = require('node:crypto');
    const buffer = Buffer.alloc(16 * 1024 * 1024, 7);
    createHash(workerData.algorithm).update(buffer).digest(); // warm up
    const started = performance.now();
    const deadline = started + workerData.seconds * 1000;
    let bytes = 0;
    while (performance.now() < deadline) {
      createHash(workerData.algorithm).update(buffer).digest();
      bytes += buffer.length;
    }
    parentPort.postMessage(bytes / ((performance.now() - started) / 1000));`;
  const rates = await Promise.all(
    Array.from({ length: threads }, () => {
      const worker = new Worker(source, { eval: true, workerData: { algorithm: opensslName(algorithm), seconds } });
      return new Promise<number>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  return rates.reduce((sum, rate) => sum + rate, 0);
}
