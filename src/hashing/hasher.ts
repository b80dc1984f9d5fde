import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { opensslName, type DigestAlgorithm } from '../digest/algorithm.js';

/** An incremental hasher; `dispose` frees resources when a digest is abandoned. */
export interface Hasher {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
  dispose(): void;
}

type Blake3 = typeof import('blake3-wasm');
let blake3: Blake3 | undefined;

/** SHA-2 and BLAKE2b from node:crypto (OpenSSL), BLAKE3 from blake3-wasm (compiled on first use only). */
export function createHasher(algorithm: DigestAlgorithm): Hasher {
  if (algorithm === 'blake3') {
    blake3 ??= createRequire(import.meta.url)('blake3-wasm') as Blake3;
    const hash = blake3.createHash();
    let disposed = false;
    return {
      update: (data) => void hash.update(data),
      digest: () => {
        disposed = true; // digest() frees the WebAssembly state
        return hash.digest();
      },
      dispose: () => {
        if (!disposed) hash.dispose();
        disposed = true;
      },
    };
  }
  return nodeHasher(opensslName(algorithm));
}

/** A hasher of node:crypto (OpenSSL) by its name there: also SHA-1, for Git blob IDs (src/hashing/stream-hasher.ts). */
export function nodeHasher(name: string): Hasher {
  const hash = createHash(name);
  return {
    update: (data) => void hash.update(data),
    digest: () => hash.digest(),
    dispose: () => {},
  };
}
