import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DigestBackend } from '../hashing/backend.js';
import { githubWorkflowPolicy, type Policy } from '../trust/policy.js';
import { signVariant } from '../kernels/sign-variant.js';
import { parseTrustedRoot, type TrustedRoot } from '../sigstore/trusted-root.js';

/** What verifies what a {@link BenchSigner} signed. */
export interface BenchAnchor {
  policy: Policy;
  trustedRoot: TrustedRoot;
}

/** Signs the bench's variants offline, and says how to verify them. */
export interface BenchSigner {
  anchor: BenchAnchor;
  /** The policy's repository and the trusted root as JSON: the anchor, for a child process. */
  repository: string;
  trustedRootJSON: Record<string, unknown>;
  sign(dir: string, backend?: DigestBackend): Promise<void>;
  close(): Promise<void>;
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
 * A signer for the bench: keyless, against the mock Sigstore of the test suite. Undefined where
 * the mock is not available (an installed package): the parts of the bench that need a signed
 * variant then skip themselves, saying so.
 */
export async function benchSigner(): Promise<BenchSigner | undefined> {
  if (!existsSync(fileURLToPath(MOCK))) return undefined;
  const mock = (await import(MOCK.href)) as MockModule;
  const sigstore = await mock.startMockSigstore();
  const identityToken = mock.identityToken(mock.githubActionsClaims('kernelseal/bench'));
  return {
    anchor: { policy: githubWorkflowPolicy({ repository: 'kernelseal/bench' }), trustedRoot: parseTrustedRoot(sigstore.trustedRoot, 'mock trusted root') },
    repository: 'kernelseal/bench',
    trustedRootJSON: sigstore.trustedRoot,
    sign: async (dir, backend) => {
      await signVariant(dir, { signer: { method: 'keyless', identityToken, fulcioURL: sigstore.url, rekorURL: sigstore.url }, ...(backend ? { backend } : {}) });
    },
    close: () => sigstore.close(),
  };
}

/** Why a part of the bench did not run: no offline signer here. */
export const NO_SIGNER = 'skipped: signing the bench variant needs the mock Sigstore of a source checkout (__test__/helpers)';
