import type { KeyObject } from 'node:crypto';
import { kernelsCommunityPolicy, type Policy } from '../../trust/policy.js';
import type { StringMatch } from '../../trust/string-match.js';
import { checkTrustAnchor, type TrustAnchor } from '../../sigstore/trust-anchor.js';
import type { TrustedRoot } from '../../sigstore/trusted-root.js';
import type { DigestBackend, HashProgress } from '../../hashing/backend.js';
import { digestBackend } from '../../hashing/select-backend.js';
import type { VariantSelector } from '../variant-name.js';
import type { HubClientOptions } from './hub-client.js';
import { hubCacheRoot, offlineFromEnv } from './hub-env.js';
import type { KernelLock } from './lockfile.js';

export type GetKernelOptions = HubClientOptions & {
  /** Who is trusted (default kernels-community), or a managed key, or a private CA chain. */
  policy?: Policy;
  key?: KeyObject | string;
  certificateChain?: string;
  identity?: StringMatch;
  /** With a key or CA chain: accept a signature made without a transparency log entry (src/sigstore/trust-anchor.ts). */
  insecureIgnoreTlog?: boolean;
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
  /** Use only what is in the cache (default: HF_HUB_OFFLINE set to 1, true, yes or on). */
  offline?: boolean;
  /** Accept a variant with no signature at all. Loud; never accepts a failing one. */
  allowUnsigned?: boolean;
  /** Pin to this lock: its commit, and the variant's hash from the Hub's listing. */
  lock?: KernelLock;
  /** Files downloaded at once. */
  concurrency?: number;
  /** Download progress. */
  onProgress?: (progress: HashProgress) => void;
  /** Progress of hashing the files to verify them (when no receipt vouches for them). */
  onHashProgress?: (progress: HashProgress) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** The digest backend that hashes the files and locks the cache's blobs (default: the selected one). */
  backend?: DigestBackend;
};

/** Stage 1, resolve: which revision, from the Hub or (offline, or the Hub out of reach) the cache. */
export interface ResolveOptions {
  revision: string;
  offline: boolean;
  lock?: KernelLock;
  hub: HubClientOptions;
  warn: Warn;
}

/** Stage 2, select: the variant for this machine (or the one named), and what the lock pins it to. */
export interface SelectOptions {
  variant?: string;
  selector: VariantSelector;
  lock?: KernelLock;
}

/** Stages 3 and 5, the downloads: how many at once, their progress, when to stop. */
export interface TransferOptions {
  hub: HubClientOptions;
  concurrency: number;
  onProgress?: (progress: HashProgress) => void;
  signal?: AbortSignal;
}

/** Stage 4, verify signature and trust: whom to trust, and whether a variant with no signature may pass. */
export interface TrustOptions {
  anchor: TrustAnchor;
  trustedRoot?: TrustedRoot;
  allowUnsigned: boolean;
  /** The version the signed metadata must carry: asked for by number, not pinned by a revision or lock. */
  version?: number;
  warn: Warn;
}

/** Stage 5, obtain files: what hashes them (never the trust anchor, the lock or the policy). */
export interface HashingOptions {
  backend: DigestBackend;
  onProgress?: (progress: HashProgress) => void;
  signal?: AbortSignal;
}

/** The cache a load reads and writes, and the backend's lock that keeps Python out of a blob being written. */
export interface CacheOptions {
  root: string;
  repoType: NonNullable<HubClientOptions['repoType']>;
  lockFile?: (fd: number) => boolean;
}

export type Warn = (message: string) => void;

/** getKernel's options, split once, at the top, into what each stage of a load needs. */
export interface LoadOptions {
  cache: CacheOptions;
  resolve: ResolveOptions;
  select: SelectOptions;
  transfer: TransferOptions;
  trust: TrustOptions;
  hashing: HashingOptions;
  warn: Warn;
}

/**
 * Splits getKernel's options into the stages' own. A trust anchor that names none or several of
 * policy, key and CA chain is the caller's mistake (TypeError, src/sigstore/trust-anchor.ts),
 * thrown here before anything is fetched.
 */
export function splitOptions(options: GetKernelOptions): LoadOptions {
  const backend = options.backend ?? digestBackend();
  const resolve = resolveOptionsOf(options);
  const { hub, lock, warn } = resolve;
  return {
    cache: cacheOptionsOf(options, backend),
    resolve,
    select: { variant: options.variant, selector: options.selector ?? {}, lock },
    transfer: { hub, concurrency: options.concurrency ?? 4, onProgress: options.onProgress, signal: options.signal },
    trust: {
      anchor: trustAnchorOf(options),
      trustedRoot: options.trustedRoot,
      allowUnsigned: options.allowUnsigned === true,
      version: lock || options.revision !== undefined ? undefined : options.version,
      warn,
    },
    hashing: { backend, onProgress: options.onHashProgress, signal: options.signal },
    warn,
  };
}

/**
 * What resolving a revision needs (listVariants too): the revision (the lock's commit, else the
 * one named, else `v<version>`, else `main`), whether to ask the Hub, and how.
 */
export function resolveOptionsOf(options: GetKernelOptions): ResolveOptions {
  const { endpoint, token, repoType = 'kernel', timeoutMs, attempts, lock } = options;
  return {
    revision: lock?.commit ?? options.revision ?? (options.version !== undefined ? `v${options.version}` : 'main'),
    offline: options.offline ?? offlineFromEnv(),
    lock,
    hub: { endpoint, token, repoType, timeoutMs, attempts },
    warn: options.onWarning ?? defaultWarning,
  };
}

/** The cache of the options (default: huggingface_hub's), locking blobs as the backend can. */
export function cacheOptionsOf(options: GetKernelOptions, backend?: DigestBackend): CacheOptions {
  return { root: options.cacheDir ?? hubCacheRoot(), repoType: options.repoType ?? 'kernel', lockFile: backend?.lockFile };
}

/** The one anchor the options name; kernels-community's policy when they name none. */
function trustAnchorOf(options: GetKernelOptions): TrustAnchor {
  const { key, certificateChain, identity, insecureIgnoreTlog } = options;
  const policy = options.policy ?? (key || certificateChain ? undefined : kernelsCommunityPolicy);
  const waiver = insecureIgnoreTlog === undefined ? {} : { insecureIgnoreTlog };
  switch (checkTrustAnchor({ policy, key, certificateChain, insecureIgnoreTlog })) {
    case 'policy':
      return { policy: policy!, ...waiver };
    case 'key':
      return { key: key!, ...waiver };
    case 'certificateChain':
      return { certificateChain: certificateChain!, ...(identity ? { identity } : {}), ...waiver };
  }
}

const defaultWarning: Warn = (message) => process.stderr.write(`kernelseal: warning: ${message}\n`);
