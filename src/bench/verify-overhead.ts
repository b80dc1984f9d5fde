import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DigestBackend } from '../hashing/backend.js';
import { githubWorkflowPolicy } from '../trust/policy.js';
import { signVariant } from '../kernels/sign-variant.js';
import { parseTrustedRoot } from '../sigstore/trusted-root.js';
import { verifyVariant } from '../kernels/verify-variant.js';
import { median } from './statistics.js';

/** What verifying a variant costs beyond hashing it, in milliseconds (medians). */
export interface VerifyOverhead {
  hashMs: number;
  verifyMs: number;
  overheadMs: number;
}

/** The part of __test__/helpers/mock-sigstore.ts used here. */
interface MockModule {
  startMockSigstore(): Promise<{ url: string; trustedRoot: Record<string, unknown>; close(): Promise<void> }>;
  identityToken(claims: Record<string, unknown>): string;
  githubActionsClaims(repository: string): Record<string, unknown>;
}

/** The test suite's mock Sigstore (Fulcio, Rekor, TSA on 127.0.0.1): only in a source checkout. */
const MOCK = new URL('../../__test__/helpers/mock-sigstore.ts', import.meta.url);

/**
 * Signs `dir` (keyless, against the mock Sigstore of the test suite) and measures, interleaved,
 * `verifyVariant` against a plain `hashVariant` of the same files with the same backend.
 * Undefined where the mock is not available (an installed package).
 */
export async function measureVerifyOverhead(dir: string, backend: DigestBackend, rounds: number): Promise<VerifyOverhead | undefined> {
  if (!existsSync(fileURLToPath(MOCK))) return undefined;
  const mock = (await import(MOCK.href)) as MockModule;
  const sigstore = await mock.startMockSigstore();
  try {
    const metadata = join(dir, 'metadata.json');
    writeFileSync(metadata, JSON.stringify({ name: 'bench', id: '_bench', version: 1, license: 'MIT', 'python-depends': [], backend: { type: 'cuda' } }));
    const identityToken = mock.identityToken(mock.githubActionsClaims('kernelseal/bench'));
    await signVariant(dir, { signer: { method: 'keyless', identityToken, fulcioURL: sigstore.url, rekorURL: sigstore.url }, backend });
    const trustedRoot = parseTrustedRoot(sigstore.trustedRoot, 'mock trusted root');
    const policy = githubWorkflowPolicy({ repository: 'kernelseal/bench' });
    const hash: number[] = [];
    const verify: number[] = [];
    for (let round = 0; round < rounds; round++) {
      let started = performance.now();
      await backend.hashVariant('sha256', dir);
      hash.push(performance.now() - started);
      started = performance.now();
      const result = await verifyVariant(dir, { policy, trustedRoot, backend });
      verify.push(performance.now() - started);
      if (result.status !== 'verified') throw new Error(`bench: the signed variant did not verify: ${result.status}`);
    }
    const hashMs = median(hash);
    const verifyMs = median(verify);
    return { hashMs, verifyMs, overheadMs: verifyMs - hashMs };
  } finally {
    await sigstore.close();
  }
}
