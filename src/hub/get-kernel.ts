import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { kernelsCommunityPolicy, type Policy } from '../policy/policy.js';
import type { StringMatch } from '../policy/string-match.js';
import type { Signer, TrustAnchor } from '../sigstore/verify-bundle.js';
import type { TrustedRoot } from '../sigstore/trusted-root.js';
import type { Digest } from '../digest/digest.js';
import type { KernelMetadata } from '../metadata/metadata.js';
import type { VerificationResult } from '../verify/result.js';
import { verifyFiles, verifySignedMetadata } from '../verify/verify-variant.js';
import { HubCache } from './cache.js';
import { HubClient, HubError, type HubClientOptions, type HubFile } from './hub-client.js';
import { LockfileError, variantLockHash, type KernelLock } from './lockfile.js';
import { fingerprint, variantReceipt } from './receipts.js';
import { selectVariant, type VariantSelector } from './variant-name.js';

export type GetKernelOptions = HubClientOptions & {
    /** Who is trusted (default kernels-community), or a managed key, or a private CA chain. */
    policy?: Policy;
    key?: KeyObject | string;
    certificateChain?: string;
    identity?: StringMatch;
    /** A kernel version: the branch `v<N>`. */
    version?: number;
    /** A branch, tag or commit. Default `v<version>`, else `main`. */
    revision?: string;
    /** A variant by name, e.g. torch210-cxx11-cu128-x86_64-linux. */
    variant?: string;
    /** Or the variant that best fits this. */
    selector?: VariantSelector;
    /** Default: the public-good root pinned in this package. */
    trustedRoot?: TrustedRoot;
    /** Default: the Hugging Face cache (HF_HUB_CACHE). */
    cacheDir?: string;
    /** Use only what is in the cache (default: HF_HUB_OFFLINE=1). */
    offline?: boolean;
    /** Accept a variant with no signature at all. Loud; never accepts a failing one. */
    allowUnsigned?: boolean;
    /** Pin to this lock: its commit, and the variant's hash from the Hub's listing. */
    lock?: KernelLock;
    /** Files downloaded at once. */
    concurrency?: number;
    onProgress?: (progress: { bytesDone: number; bytesTotal: number; filesDone: number; filesTotal: number }) => void;
    onWarning?: (message: string) => void;
    signal?: AbortSignal;
  };

/** A kernel variant fetched into the cache and verified (or, opted in, unsigned). */
export interface FetchedKernel {
  repoId: string;
  revision: string;
  commit: string;
  variant: string;
  /** The variant's directory in the cache snapshot: what to load. */
  path: string;
  verified: boolean;
  signer?: Signer;
  metadata?: KernelMetadata;
  /** The signed digest the files were checked against. */
  digest?: Digest;
  /** The files were not re-hashed: a receipt from an earlier verification still holds. */
  fromReceipt: boolean;
}

/** The variant did not verify (or could not be chosen): nothing is handed back. `result` says why. */
export class KernelRefusedError extends Error {
  override readonly name = 'KernelRefusedError';
  constructor(
    message: string,
    readonly result?: VerificationResult,
    readonly kernel?: Pick<FetchedKernel, 'repoId' | 'revision' | 'commit' | 'variant'>,
  ) {
    super(message);
  }
}

const COMMIT = /^[0-9a-f]{40}$/;

/**
 * Fetches a kernel variant from the Hub and hands it back only if it verifies: resolves the
 * revision (`v<version>` or any ref or commit; a lock pins the commit), picks the variant,
 * downloads only `build/<variant>/**` (no `*.pyc`, no `__pycache__`) into the Hugging Face
 * cache with resumed, parallel, size- and content-checked transfers, then verifies it with
 * the policy (default: kernels-community). A receipt from an earlier verification of the same
 * files lets a later load skip re-hashing; the signature is always checked.
 */
export async function getKernel(repoId: string, options: GetKernelOptions = {}): Promise<FetchedKernel> {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repoId)) throw new KernelRefusedError(`not a repository id: ${JSON.stringify(repoId)}`);
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`kernelseal: warning: ${message}\n`));
  const offline = options.offline ?? process.env.HF_HUB_OFFLINE === '1';
  const revision = options.lock?.commit ?? options.revision ?? (options.version !== undefined ? `v${options.version}` : 'main');
  const cache = new HubCache(options.cacheDir ?? HubCache.defaultRoot(), repoId, options.repoType ?? 'kernel');

  const { commit, variants, listing } = await resolveRevision(repoId, revision, cache, options, offline);
  if (options.lock && options.lock.commit !== commit) throw new LockfileError(`${repoId}: the Hub resolved ${revision} to ${commit}, not the locked commit`);

  const variant = options.variant ?? selectVariant(variants, options.selector ?? {});
  if (!variant || !variants.includes(variant)) {
    throw new KernelRefusedError(`${repoId}@${revision}: no variant ${variant ?? 'fits'}; available: ${variants.sort().join(', ') || 'none'}`);
  }

  if (listing) {
    const client = new HubClient(options);
    const lockHash = options.lock?.variants[variant]?.hash;
    if (options.lock && !lockHash) throw new LockfileError(`${repoId}: the lock has no variant ${variant}`);
    if (lockHash && variantLockHash(listing, variant) !== lockHash) {
      throw new LockfileError(`${repoId}@${commit}: the files of ${variant} on the Hub do not match the locked hash ${lockHash}`);
    }
    const wanted = listing.filter((f) => f.path.startsWith(`build/${variant}/`) && !f.path.endsWith('.pyc') && !f.path.split('/').includes('__pycache__'));
    await download(wanted, options.concurrency ?? 4, options, (file, onBytes) =>
      cache.ensureFile(commit, file, (incomplete) => client.download(repoId, commit, file, incomplete, { signal: options.signal, onBytes })),
    );
  }

  const path = join(cache.snapshotDir(commit), 'build', variant);
  const base = { repoId, revision, commit, variant, path };
  const anchor = { ...options, policy: options.policy ?? (options.key || options.certificateChain ? undefined : kernelsCommunityPolicy) } as TrustAnchor & typeof options;
  const signed = await verifySignedMetadata(path, anchor);
  if ('result' in signed) {
    if (signed.result.status === 'signature-missing' && options.allowUnsigned) {
      warn(`${repoId}@${commit} ${variant} is NOT SIGNED: loading it anyway because allowUnsigned is set; nothing vouches for this code`);
      return { ...base, verified: false, fromReceipt: false };
    }
    throw new KernelRefusedError(`${repoId}@${commit} ${variant}: refused: ${signed.result.status}${'reason' in signed.result ? `: ${signed.result.reason}` : ''}`, signed.result, base);
  }
  const { signer, metadata, digest, metadataBytes } = signed.value;
  const receipt = await variantReceipt(cache, { repoId, commit, variant, metadataBytes }, warn);
  if (await receipt.holds(path)) return { ...base, verified: true, signer, metadata, digest, fromReceipt: true };
  const before = await fingerprint(path);
  const failure = await verifyFiles(path, digest, anchor);
  if (failure) throw new KernelRefusedError(`${repoId}@${commit} ${variant}: refused: ${failure.status}`, failure, base);
  const after = await fingerprint(path);
  // Only files that did not move while they were hashed earn a receipt.
  if (JSON.stringify(before) === JSON.stringify(after)) await receipt.write(after);
  return { ...base, verified: true, signer, metadata, digest, fromReceipt: false };
}

/**
 * The commit a revision names and the variants under build/ there: from the Hub, or (offline)
 * from what the cache holds. Records the revision's commit in the cache.
 */
async function resolveRevision(repoId: string, revision: string, cache: HubCache, options: HubClientOptions, offline: boolean) {
  if (offline) {
    const commit = COMMIT.test(revision) ? revision : await cache.readRef(revision);
    if (!commit) throw new KernelRefusedError(`${repoId}@${revision} is not in the cache and offline mode is on (HF_HUB_OFFLINE)`);
    const variants = await readdir(join(cache.snapshotDir(commit), 'build')).catch(() => [] as string[]);
    return { commit, variants: variants.sort(), listing: undefined };
  }
  const { commit, files } = await new HubClient(options).revision(repoId, revision);
  if (!COMMIT.test(revision)) await cache.writeRef(revision, commit);
  const variants = [...new Set(files.filter((f) => f.path.startsWith('build/')).map((f) => f.path.split('/')[1]!))].sort();
  return { commit, variants, listing: files };
}

/** The variants of a kernel at a revision (`version` or `revision`, as getKernel resolves them). */
export async function listVariants(repoId: string, options: GetKernelOptions = {}): Promise<{ revision: string; commit: string; variants: string[] }> {
  const revision = options.lock?.commit ?? options.revision ?? (options.version !== undefined ? `v${options.version}` : 'main');
  const cache = new HubCache(options.cacheDir ?? HubCache.defaultRoot(), repoId, options.repoType ?? 'kernel');
  const { commit, variants } = await resolveRevision(repoId, revision, cache, options, options.offline ?? process.env.HF_HUB_OFFLINE === '1');
  return { revision, commit, variants };
}

/** Runs `fetchOne` over `files`, `concurrency` at a time, reporting byte and file progress. */
async function download(
  files: HubFile[],
  concurrency: number,
  { onProgress, signal }: GetKernelOptions,
  fetchOne: (file: HubFile, onBytes: (n: number) => void) => Promise<unknown>,
): Promise<void> {
  const totals = { bytesTotal: files.reduce((sum, f) => sum + f.size, 0), filesTotal: files.length };
  let bytesDone = 0;
  let filesDone = 0;
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < files.length; index = next++) {
      signal?.throwIfAborted();
      await fetchOne(files[index]!, (n) => {
        bytesDone += n;
        onProgress?.({ bytesDone, filesDone, ...totals });
      });
      filesDone += 1;
      onProgress?.({ bytesDone, filesDone, ...totals });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
}

export { HubError };
