import { createHash } from 'node:crypto';
import { createHash as createBlake3 } from 'blake3-wasm';
import type { DigestAlgorithm } from './algorithm.js';

/** An incremental hasher; `dispose` frees resources when a digest is abandoned. */
export interface Hasher {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
  dispose(): void;
}

/** SHA-2 from node:crypto (OpenSSL), BLAKE3 from blake3-wasm. */
export function createHasher(algorithm: DigestAlgorithm): Hasher {
  if (algorithm === 'blake3') {
    const hash = createBlake3();
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
  const hash = createHash(algorithm);
  return {
    update: (data) => void hash.update(data),
    digest: () => hash.digest(),
    dispose: () => {},
  };
}

/** Hashes bytes in one call. */
export function hashBytes(algorithm: DigestAlgorithm, data: Uint8Array): Uint8Array {
  const hasher = createHasher(algorithm);
  hasher.update(data);
  return hasher.digest();
}
