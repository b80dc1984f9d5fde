import type { DigestBackend } from '../hashing/backend.js';
import { benchSigner } from './bench-signer.js';
import { verifyVariant } from '../kernels/verify-variant.js';
import { median } from './statistics.js';

/** What verifying a variant costs beyond hashing it, in milliseconds (medians). */
export interface VerifyOverhead {
  hashMs: number;
  verifyMs: number;
  overheadMs: number;
}

/**
 * Signs `dir` offline (src/bench/bench-signer.ts) and measures, interleaved, `verifyVariant`
 * against a plain `hashVariant` of the same files with the same backend. The overhead is then
 * the bundle, the signature and the metadata.
 */
export async function measureVerifyOverhead(dir: string, backend: DigestBackend, rounds: number): Promise<VerifyOverhead> {
  const signer = benchSigner();
  await signer.sign(dir, 'cuda', backend);
  const anchor = signer.anchor;
  const hash: number[] = [];
  const verify: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    await backend.hashVariant('sha256', dir);
    hash.push(performance.now() - started);
    started = performance.now();
    const result = await verifyVariant(dir, { ...anchor, backend });
    verify.push(performance.now() - started);
    if (result.status !== 'verified') throw new Error(`bench: the signed variant did not verify: ${result.status}${'reason' in result ? ` (${result.reason})` : ''}`);
  }
  const hashMs = median(hash);
  const verifyMs = median(verify);
  return { hashMs, verifyMs, overheadMs: verifyMs - hashMs };
}
