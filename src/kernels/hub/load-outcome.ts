import type { Signer } from '../../sigstore/verify-bundle.js';
import type { Digest } from '../../digest/digest.js';
import type { KernelMetadata } from '../metadata.js';
import type { VerificationResult } from '../result.js';

/**
 * Where the commit came from: the Hub (`hub`), the cache in offline mode (`cache`), or the
 * cache because the Hub could not be reached (`cache-fallback`: what was resolved last time,
 * or with a lock, the locked commit).
 */
export type RevisionSource = 'hub' | 'cache' | 'cache-fallback';

/** Which kernel variant a load is about, once resolved and selected: named in every outcome. */
export interface LoadedVariant {
  repoId: string;
  revision: string;
  commit: string;
  variant: string;
  /** The variant's directory in the cache snapshot: what to load. */
  path: string;
  revisionSource: RevisionSource;
}

/**
 * A kernel variant fetched into the cache and verified (`verified: true`: who signed it, the
 * signed metadata and digest, and whether a receipt spared re-hashing the files) or, opted in
 * with allowUnsigned, taken with no signature at all (`verified: false`).
 */
export type FetchedKernel = LoadedVariant &
  (
    | {
        verified: true;
        signer: Signer;
        metadata: KernelMetadata;
        /** The signed digest the files were checked against. */
        digest: Digest;
        /** The files were not re-hashed: a receipt from an earlier verification still holds. */
        fromReceipt: boolean;
        /** Why the stated source was not compared: the policy declares the signer a re-signer (Policy.resigners). */
        sourceNotCompared?: string;
      }
    | { verified: false; signer?: undefined; metadata?: undefined; digest?: undefined; fromReceipt: false; sourceNotCompared?: undefined }
  );

/**
 * Why getKernel handed nothing back: the variant did not verify (`KERNEL_UNVERIFIED`, with the
 * verification `result`), no variant could be chosen or found (`VARIANT_UNAVAILABLE`), or, under
 * the default policy, the Hub does not mark the organisation a trusted kernel publisher
 * (`PUBLISHER_UNTRUSTED`).
 */
export type KernelRefusedErrorCode = 'KERNEL_UNVERIFIED' | 'VARIANT_UNAVAILABLE' | 'PUBLISHER_UNTRUSTED';

/** The variant did not verify (or could not be chosen): nothing is handed back. `result` says why. */
export class KernelRefusedError extends Error {
  override readonly name = 'KernelRefusedError';
  readonly code: KernelRefusedErrorCode;
  constructor(
    message: string,
    readonly result?: VerificationResult,
    readonly kernel?: Pick<FetchedKernel, 'repoId' | 'revision' | 'commit' | 'variant'>,
    code?: 'PUBLISHER_UNTRUSTED',
  ) {
    super(message);
    this.code = code ?? (result ? 'KERNEL_UNVERIFIED' : 'VARIANT_UNAVAILABLE');
  }
}

/** The refusal of `kernel` for `result`, the result's reason in the message unless `withReason` is false. */
export function refusal(kernel: LoadedVariant, result: VerificationResult, withReason = true): KernelRefusedError {
  const reason = withReason && 'reason' in result ? `: ${result.reason}` : '';
  return new KernelRefusedError(`${kernel.repoId}@${kernel.commit} ${kernel.variant}: refused: ${result.status}${reason}`, result, kernel);
}
