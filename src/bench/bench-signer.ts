import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DigestBackend } from '../hashing/backend.js';
import { signVariant } from '../kernels/sign-variant.js';
import { pinnedTrustedRoot, type TrustedRoot } from '../sigstore/trusted-root.js';

/** What verifies what a {@link BenchSigner} signed: its public key, the log waived. */
export interface BenchAnchor {
  key: KeyObject;
  insecureIgnoreTlog: true;
  trustedRoot: TrustedRoot;
}

/** Signs the bench's variants offline, and says how to verify them. */
export interface BenchSigner {
  anchor: BenchAnchor;
  /** The public key (PEM): the anchor, for a child process. */
  publicKeyPem: string;
  /** Writes the variant's metadata.json (for `kernelBackend`), then signs the variant. */
  sign(dir: string, kernelBackend: 'cpu' | 'cuda', backend?: DigestBackend): Promise<void>;
}

/**
 * A signer for the bench: a key generated for the run, signing without a transparency log
 * (README: air-gapped signing), so that the bench needs no service and nothing of the test
 * suite. A keyless signature adds its certificate chain, SCT and log entry checks to a
 * verification, which do not grow with the variant.
 */
export function benchSigner(): BenchSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    anchor: { key: publicKey, insecureIgnoreTlog: true, trustedRoot: pinnedTrustedRoot() },
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: async (dir, kernelBackend, backend) => {
      const metadata = { name: 'bench', id: '_bench', version: 1, license: 'MIT', 'python-depends': [], backend: { type: kernelBackend } };
      await writeFile(join(dir, 'metadata.json'), JSON.stringify(metadata));
      await signVariant(dir, { signer: { method: 'key', privateKey, tlogUpload: false }, ...(backend ? { backend } : {}) });
    },
  };
}
