// The worker thread of src/hashing/stream-hasher.ts: hashes the batches it is sent, in the
// order they arrive, and hands each buffer back for reuse. An error here ends the worker, which
// the main thread sees as a failed hash (the download is refused).
import { parentPort, workerData } from 'node:worker_threads';
import { startParts, type FromWorker, type HashPart, type ToWorker } from './stream-hasher.js';

const parts = workerData as HashPart[];
const port = parentPort!;
let hashers = startParts(parts);

port.on('message', (message: ToWorker) => {
  if (message.type === 'data') {
    const bytes = new Uint8Array(message.buffer, 0, message.length);
    for (const hasher of hashers) hasher.update(bytes);
    port.postMessage({ type: 'free', buffer: message.buffer } satisfies FromWorker, [message.buffer]);
  } else if (message.type === 'restart') {
    for (const hasher of hashers) hasher.dispose();
    hashers = startParts(parts);
  } else {
    const digests = hashers.map((hasher) => hasher.digest());
    hashers = startParts(parts);
    port.postMessage({ type: 'digest', digests } satisfies FromWorker);
  }
});
