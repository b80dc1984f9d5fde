import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DigestBackend } from '../hashing/backend.js';
import { signVariant } from '../kernels/sign-variant.js';
import { pinnedTrustedRoot } from '../sigstore/trusted-root.js';
import { verifyVariant } from '../kernels/verify-variant.js';
import { median } from './statistics.js';

/** What verifying a variant costs beyond hashing it, in milliseconds (medians). */
export interface VerifyOverhead {
  hashMs: number;
  verifyMs: number;
  overheadMs: number;
}

/**
 * Signs `dir` with a key generated for the run, without a transparency log (README: air-gapped
 * signing), so that the bench needs no service and nothing of the test suite, and measures,
 * interleaved, `verifyVariant` with that key against a plain `hashVariant` of the same files
 * with the same backend. The overhead is then the bundle, the signature and the metadata; a
 * keyless signature adds its certificate chain, SCT and log entry checks, which do not grow
 * with the variant.
 */
export async function measureVerifyOverhead(dir: string, backend: DigestBackend, rounds: number): Promise<VerifyOverhead> {
  const metadata = join(dir, 'metadata.json');
  writeFileSync(metadata, JSON.stringify({ name: 'bench', id: '_bench', version: 1, license: 'MIT', 'python-depends': [], backend: { type: 'cuda' } }));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await signVariant(dir, { signer: { method: 'key', privateKey, tlogUpload: false }, backend });
  const anchor = { key: publicKey, insecureIgnoreTlog: true, trustedRoot: pinnedTrustedRoot() };
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
