import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrustAnchor } from '../../sigstore/trust-anchor.js';
import type { TrustedRoots } from '../../sigstore/trusted-root-choice.js';
import type { VerificationResult } from '../result.js';
import { verifySignedMetadata } from '../verify-variant.js';
import { HubClient, listedVariants, type HubClientOptions } from './hub-client.js';
import { lockFromListing, lockedIdentity, type KernelLock, type LockedIdentity } from './lockfile.js';

export type LockKernelOptions = HubClientOptions &
  TrustAnchor & {
    /** A kernel version: the branch `v<N>`. */
    version?: number;
    /** A branch, tag or commit. Default `v<version>`, else `main`. */
    revision?: string;
    /** Default: the public-good root pinned in this package. */
    trustedRoot?: TrustedRoots;
    /** The publisher list that trusted the signers, as opened: its pinned root's digest and targets version are locked. */
    publisherList?: { rootDigest: string; version: number };
    signal?: AbortSignal;
  };

/** A kernel locked: the lock, and the variants left without identities (not signed). */
export interface LockedKernel {
  lock: KernelLock;
  /** Variants with no signature: locked by their hash alone. */
  unsigned: string[];
}

/** A variant's signature does not verify: nothing is locked. */
export interface LockRefusal {
  variant: string;
  result: VerificationResult;
}

/**
 * The lock of a kernel at a revision: the commit, each variant's hash from the Hub's listing, and
 * the identities that signed it, read from each variant's signed metadata (only `metadata.json`
 * and its bundle are downloaded, to a private temporary folder) and verified with the trust
 * anchor as a load would. A variant whose signature fails is a refusal: a lock never records a
 * signer that did not verify.
 */
export async function lockKernel(repoId: string, options: LockKernelOptions): Promise<LockedKernel | LockRefusal> {
  const revision = options.revision ?? (options.version !== undefined ? `v${options.version}` : 'main');
  const client = new HubClient(options);
  const { commit, files } = await client.revision(repoId, revision);
  const variants = listedVariants(files);
  const work = await mkdtemp(join(tmpdir(), 'kernelseal-lock-'));
  try {
    const identities: LockedIdentity[] = [];
    const unsigned: string[] = [];
    for (const variant of variants) {
      const dir = join(work, variant);
      await mkdir(dir);
      for (const name of ['metadata.json', 'metadata.json.sigstore']) {
        const file = files.find((f) => f.path === `build/${variant}/${name}`);
        if (file) await client.download(repoId, commit, file, join(dir, name), { signal: options.signal });
      }
      const signed = await verifySignedMetadata(dir, options);
      if ('result' in signed) {
        if (signed.result.status === 'signature-missing') unsigned.push(variant);
        else return { variant, result: { ...signed.result, path: `${repoId}@${commit} ${variant}` } };
        continue;
      }
      const identity = lockedIdentity(signed.value.signer);
      if (identity) identities.push(identity);
    }
    const publisherList = options.publisherList && { rootDigest: options.publisherList.rootDigest, minTargetsVersion: options.publisherList.version };
    return { lock: lockFromListing(repoId, commit, files, { identities, publisherList }), unsigned };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
