import type { KernelMetadata } from '../metadata.js';
import { verifySignedMetadata, type SignedMetadata } from '../verify-variant.js';
import type { HubCache } from './cache.js';
import { cachedVariantLockHash, LockfileError } from './lockfile.js';
import type { TrustAnchor } from '../../sigstore/trust-anchor.js';
import type { Signer } from '../../sigstore/verify-bundle.js';
import type { VerifyOptions } from './load-options.js';
import { refusal, type LoadedVariant } from './load-outcome.js';
import { checkSigner, type SignerToRemember } from './signer-continuity.js';

/**
 * What stage 5 establishes: who signed which metadata (and its digest), or, opted in, that nothing
 * is signed; and what the load, once it passes, remembers of its signer (stage 7).
 */
export type Trusted = ({ signed: SignedMetadata } | { unsigned: true }) & { remember?: SignerToRemember };

/** How a lock pins the variant, for stage 5: its hash, and whether it was checked against the Hub's listing already. */
export interface LockPin {
  hash?: string;
  checkedOnline: boolean;
}

/**
 * Stage 5, verify signature and trust: steps 1 to 6 of docs/design.md section 5 on the signed
 * files in the cache (src/kernels/verify-variant.ts verifySignedMetadata), then that the signed
 * kernel is the one asked for, offline, that the cached files are the locked ones, and last, that
 * the signer is one the lock records or the one remembered for the repository
 * (src/kernels/hub/signer-continuity.ts: another is `signature-invalid`, refused before any other
 * file is obtained). A variant with no signature at all passes only when allowed, no lock names
 * it (a lock names signed content) and no signer was remembered for it; any other failure is a
 * refusal.
 */
export async function verifyTrust(kernel: LoadedVariant, anchor: TrustAnchor, options: VerifyOptions, lock: LockPin, cache: HubCache): Promise<Trusted> {
  const { repoId, commit, variant, path } = kernel;
  await cache.realFolder(path); // and again before it is handed back (stage 7)
  const signed = await verifySignedMetadata(path, { ...anchor, trustedRoot: options.trustedRoot });
  if ('result' in signed) {
    if (signed.result.status === 'signature-missing' && options.allowUnsigned && !lock.hash) return { unsigned: true, ...(await signerContinues(kernel, null, options)) };
    throw refusal(kernel, signed.result);
  }
  const other = otherKernel(repoId, signed.value.metadata, options.version);
  if (other) throw refusal(kernel, { path, status: 'metadata-invalid', reason: other });
  if (lock.hash && !lock.checkedOnline && (await cachedVariantLockHash(path, signed.value.metadataBytes, signed.value.digest)) !== lock.hash) {
    throw new LockfileError(`${repoId}@${commit}: the files of ${variant} in the cache (${path}) do not match the locked hash ${lock.hash}`);
  }
  return { signed: signed.value, ...(await signerContinues(kernel, signed.value.signer, options)) };
}

/** The signer (null: none) as a lock or the signer memory decide it: a refusal, or what to remember once the load passes. */
async function signerContinues(kernel: LoadedVariant, signer: Signer | null, options: VerifyOptions): Promise<{ remember?: SignerToRemember }> {
  const decision = await checkSigner(kernel.repoId, signer, options.signers);
  if ('refused' in decision) throw refusal(kernel, { path: kernel.path, status: 'signature-invalid', reason: decision.refused });
  return decision.remember ? { remember: decision.remember } : {};
}

/**
 * Why the signed kernel is not the one asked for, if it is not. One identity signs many kernels
 * (the kernels-community build signs them all), and a Hub may serve any repository's files under
 * any name: the signed metadata's `name` must be the repository's name, compared as the Hub and
 * Python compare them (case aside, `_` as `-`). Who may sign for the repository's owner is the
 * policy's to say. Asked for a `version` (the branch v<N>, which the builder names after the
 * metadata's version), the signed version must be it: an older major version's build is not
 * served under a newer one's branch.
 */
function otherKernel(repoId: string, metadata: KernelMetadata, version: number | undefined): string | undefined {
  const spelled = (name: string) => name.toLowerCase().replaceAll('_', '-');
  if (spelled(metadata.name) !== spelled(repoId.split('/')[1]!)) return `the signed metadata is for the kernel ${JSON.stringify(metadata.name)}, not ${repoId}`;
  if (version !== undefined && metadata.version !== version) return `the signed metadata is for version ${metadata.version} of ${repoId}, not version ${version}`;
  return undefined;
}
