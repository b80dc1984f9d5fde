import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { DigestAlgorithm } from '../digest/algorithm.js';
import type { DigestBackend } from '../digest/backend.js';
import type { Dataset } from './datasets.js';

/** One way of hashing a data set; resolves when every file is hashed. */
export interface Method {
  name: string;
  supports(algorithm: DigestAlgorithm): boolean;
  run(algorithm: DigestAlgorithm, dir: string, dataset: Dataset): Promise<void>;
}

/** A digest backend hashing the data set as a variant. */
export function backendMethod(backend: DigestBackend): Method {
  return {
    name: backend.name,
    supports: () => true,
    run: async (algorithm, dir) => {
      await backend.hashVariant(algorithm, dir);
    },
  };
}

/** What a hurried user writes: one createReadStream + createHash per file, one at a time. */
export const naiveStreamMethod: Method = {
  name: 'naive-stream',
  supports: (algorithm) => algorithm !== 'blake3',
  run: async (algorithm, dir, dataset) => {
    for (const file of dataset.files) {
      const hash = createHash(algorithm);
      for await (const chunk of createReadStream(join(dir, file.path))) hash.update(chunk as Buffer);
      hash.digest();
    }
  },
};
