import type { KeyObject } from 'node:crypto';
import { kernelsCommunityPolicy, type Policy } from '../../trust/policy.js';
import type { StringMatch } from '../../trust/string-match.js';
import { checkTrustAnchor, type TrustAnchor } from '../../sigstore/trust-anchor.js';
import type { TrustedRoots } from '../../sigstore/trusted-root-choice.js';
import type { DigestBackend, HashProgress } from '../../hashing/backend.js';
import { digestBackend } from '../../hashing/select-backend.js';
import type { VariantSelector } from '../variant-name.js';
import type { HubClientOptions } from './hub-client.js';
import { hubCacheRoot, offlineFromEnv } from './hub-env.js';
import { LockfileError, type KernelLock, type LockedIdentity } from './lockfile.js';
import type { OpenPublisherListOptions, VerifiedPublisherList } from '../publishers/open-list.js';
import type { PublisherList } from '../../trust/publisher-list.js';

/**
 * A trusted publisher list (docs/publishers.md): where it is (`hf://...`, an https:// URL or a
 * folder) and its pinned first root; opened, and refreshed at most once an interval, before
 * anything of the kernel is fetched. Its entries for the repository decide who may sign.
 */
export type PublisherListSource = Pick<OpenPublisherListOptions, 'list' | 'root' | 'stateDir' | 'refreshIntervalMs' | 'maxAgeMs'>;

/** Or a list already opened (openPublisherList), as verifyVariant takes it; `repoId`, if given, must be the one loaded. */
export interface OpenedPublisherList {
  list: PublisherList;
  repoId?: string;
}

export type GetKernelOptions = HubClientOptions & {
  /** Who is trusted (default kernels-community), or a trusted publisher list, or a managed key, or a private CA chain: one of them. */
  policy?: Policy;
  publishers?: PublisherListSource | OpenedPublisherList;
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
  /**
   * Default: the public-good root pinned in this package. Several (public-good's and GitHub's, as
   * `gh attestation trusted-root` writes them): each signature is checked against the one whose CA
   * issued its certificate (src/sigstore/trusted-root-choice.ts).
   */
  trustedRoot?: TrustedRoots;
  /** Default: the Hugging Face cache (HF_HUB_CACHE). */
  cacheDir?: string;
  /** Use only what is in the cache (default: HF_HUB_OFFLINE set to 1, true, yes or on). */
  offline?: boolean;
  /** Accept a variant with no signature at all. Loud; never accepts a failing one. */
  allowUnsigned?: boolean;
  /** Pin to this lock: its commit, and the variant's hash from the Hub's listing (and, if it records them, who may sign). */
  lock?: KernelLock;
  /**
   * Take a signer other than the one first verified for this repository (or no signature
   * where there was one), and remember it (src/kernels/hub/signer-continuity.ts).
   */
  acceptNewSigner?: boolean;
  /**
   * As the kernels library's `trust_remote_code`: under the default policy, skip the Hub's
   * `trustedKernelPublisher` flag for the organisation (src/kernels/hub/publisher-flag.ts).
   * Never skips a signature check.
   */
  trustRemoteCode?: boolean;
  /** The user's state folder, where the first signer of each repository is remembered (default KERNELSEAL_STATE_DIR, else $XDG_STATE_HOME/kernelseal, else ~/.local/state/kernelseal). */
  stateDir?: string;
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

/** Stage 2, resolve: which revision, from the Hub or (offline, or the Hub out of reach) the cache. */
export interface ResolveOptions {
  revision: string;
  offline: boolean;
  lock?: KernelLock;
  hub: HubClientOptions;
  warn: Warn;
}

/** Stage 3, select: the variant for this machine (or the one named), and what the lock pins it to. */
export interface SelectOptions {
  variant?: string;
  selector: VariantSelector;
  lock?: KernelLock;
}

/** Stages 4 and 6, the downloads: how many at once, their progress, when to stop. */
export interface TransferOptions {
  hub: HubClientOptions;
  concurrency: number;
  onProgress?: (progress: HashProgress) => void;
  signal?: AbortSignal;
}

/**
 * Stage 1, trust: whom to trust, as given (`anchor`; under the default policy alone, first the
 * Hub's `trustedKernelPublisher` flag, `publisherFlag`), or a publisher list to open first
 * (`list`, with what opening it needs: the network or the cache alone, the Hub's endpoint, token
 * and deadline).
 */
export type TrustSource =
  | { anchor: TrustAnchor; publisherFlag?: PublisherFlagOptions }
  | { list: PublisherListSource & Pick<OpenPublisherListOptions, 'rootDigest' | 'minTargetsVersion'>; offline: boolean; hub: HubClientOptions; signal?: AbortSignal };

/** Where to read the Hub's `trustedKernelPublisher` flag (src/kernels/hub/publisher-flag.ts): offline, not at all. */
export interface PublisherFlagOptions {
  offline: boolean;
  hub: HubClientOptions;
}

/** Stage 5, verify signature and trust: the root of the signatures' trust, whether a variant with no signature may pass, and who else decides who signs. */
export interface VerifyOptions {
  trustedRoot?: TrustedRoots;
  allowUnsigned: boolean;
  /** The version the signed metadata must carry: asked for by number, not pinned by a revision or lock. */
  version?: number;
  signers: SignerCheck;
  warn: Warn;
}

/**
 * Who may sign beyond the trust anchor (src/kernels/hub/signer-continuity.ts): the identities a
 * lock records, or, where neither a list nor a lock (nor a key or CA chain) decides, the signer
 * first verified for the repository, remembered in the user's state folder.
 */
export interface SignerCheck {
  identities?: readonly LockedIdentity[];
  memory?: SignerMemoryOptions;
}

/** The signer memory of a load: where it is, and whether a change is accepted (and remembered). */
export interface SignerMemoryOptions {
  repoType: string;
  stateDir?: string;
  acceptNewSigner: boolean;
}

/** Stage 6, obtain files: what hashes them (never the trust anchor, the lock or the policy). */
export interface HashingOptions {
  backend: DigestBackend;
  onProgress?: (progress: HashProgress) => void;
  signal?: AbortSignal;
}

/** The cache a load reads and writes (its blobs locked as every kernelseal locks: src/fs/file-lock.ts). */
export interface CacheOptions {
  root: string;
  repoType: NonNullable<HubClientOptions['repoType']>;
}

export type Warn = (message: string) => void;

/** getKernel's options, split once, at the top, into what each stage of a load needs. */
export interface LoadOptions {
  cache: CacheOptions;
  resolve: ResolveOptions;
  select: SelectOptions;
  transfer: TransferOptions;
  trust: TrustSource;
  verify: VerifyOptions;
  hashing: HashingOptions;
  warn: Warn;
}

/**
 * Splits getKernel's options into the stages' own. A trust anchor that names none or several of
 * policy, key and CA chain is the caller's mistake (TypeError, src/sigstore/trust-anchor.ts),
 * thrown here before anything is fetched.
 */
export function splitOptions(repoId: string, options: GetKernelOptions): LoadOptions {
  const backend = options.backend ?? digestBackend();
  const resolve = resolveOptionsOf(options);
  const { hub, lock, warn } = resolve;
  return {
    cache: cacheOptionsOf(options),
    resolve,
    select: { variant: options.variant, selector: options.selector ?? {}, lock },
    transfer: { hub, concurrency: options.concurrency ?? 4, onProgress: options.onProgress, signal: options.signal },
    trust: trustSourceOf(repoId, options, resolve),
    verify: {
      trustedRoot: options.trustedRoot,
      allowUnsigned: options.allowUnsigned === true,
      version: lock || options.revision !== undefined ? undefined : options.version,
      signers: signerCheckOf(options),
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

/** The cache of the options (default: huggingface_hub's). */
export function cacheOptionsOf(options: GetKernelOptions): CacheOptions {
  return { root: options.cacheDir ?? hubCacheRoot(), repoType: options.repoType ?? 'kernel' };
}

/**
 * Who decides who signs beside the anchor: a lock's identities; else, when nothing but a policy
 * (the default included) names whom to trust, the signer remembered for the repository.
 */
function signerCheckOf(options: GetKernelOptions): SignerCheck {
  const { lock, publishers, key, certificateChain } = options;
  if (lock?.identities?.length) return { identities: lock.identities };
  if ([lock, publishers, key, certificateChain].some((given) => given !== undefined)) return {};
  return { memory: { repoType: options.repoType ?? 'kernel', stateDir: options.stateDir, acceptNewSigner: options.acceptNewSigner === true } };
}

/**
 * The one kind of trust the options name: a publisher list (to open), or an anchor (kernels-community's
 * policy when they name none, and then, unless trustRemoteCode, the Hub's publisher flag first).
 */
function trustSourceOf(repoId: string, options: GetKernelOptions, { offline, hub }: ResolveOptions): TrustSource {
  // A lock made with a publisher list pins that list (its root, its lowest targets version): a
  // load under it takes that list or none, so a fresh machine refuses an older list too.
  const pin = options.lock?.publisherList;
  if (options.publishers === undefined) {
    if (pin) throw new LockfileError(`the lock of ${repoId} was made with a trusted publisher list (root ${pin.rootDigest}, targets version ${pin.minTargetsVersion} or later): load it with that list (publishers, --publishers)`);
    const { policy, key, certificateChain, lock, trustRemoteCode } = options;
    const byDefault = [policy, key, certificateChain, lock].every((given) => given === undefined) && trustRemoteCode !== true;
    return { anchor: trustAnchorOf(options), ...(byDefault ? { publisherFlag: { offline, hub } } : {}) };
  }
  // As checkTrustAnchor says of the others (src/sigstore/trust-anchor.ts): one kind of trust, no waived log.
  const others = (['policy', 'key', 'certificateChain'] as const).filter((name) => options[name] !== undefined && options[name] !== null);
  if (others.length > 0) throw new TypeError(`ambiguous trust: publishers and ${others.join(' and ')} given together; give exactly one`);
  if (options.insecureIgnoreTlog === true) {
    throw new TypeError('insecureIgnoreTlog works only with a key or a private CA chain: a publisher list trusts Fulcio (public-good) certificates, which are worth nothing without their transparency log entry');
  }
  const { list, root, repoId: named } = options.publishers as { list?: unknown; root?: unknown; repoId?: unknown };
  if (typeof list === 'object' && list !== null && root === undefined) {
    if (named !== undefined && named !== repoId) throw new TypeError(`publishers.repoId ${JSON.stringify(named)} is not the repository loaded (${repoId})`);
    const anchor: TrustAnchor = { publishers: { list: list as PublisherList, repoId } };
    checkTrustAnchor(anchor); // a list that is none: a TypeError naming openPublisherList
    if (pin) lockedListHolds(repoId, list as Partial<VerifiedPublisherList>, pin);
    return { anchor };
  }
  if (typeof list !== 'string' || !(typeof root === 'string' || root instanceof Uint8Array)) {
    throw new TypeError('publishers must name a list and its pinned root: { list: "hf://org/name" (or a URL or folder), root: a root.json path, its bytes, or "sha256:<hex>" }, or be a list openPublisherList opened');
  }
  return { list: { ...(options.publishers as PublisherListSource), ...(pin ?? {}) }, offline, hub, signal: options.signal };
}

/** An opened list under a lock that pins one: the same root, a targets version no older than the lock's. */
function lockedListHolds(repoId: string, list: Partial<VerifiedPublisherList>, pin: NonNullable<KernelLock['publisherList']>): void {
  if (list.rootDigest !== pin.rootDigest) {
    throw new LockfileError(`the lock of ${repoId} pins the publisher list whose root is ${pin.rootDigest}; the list given ${list.rootDigest === undefined ? 'was not opened from a pinned root (openPublisherList)' : `has the root ${list.rootDigest}`}`);
  }
  if ((list.version ?? 0) < pin.minTargetsVersion) {
    throw new LockfileError(`the lock of ${repoId} allows its publisher list from targets version ${pin.minTargetsVersion}; the list given is version ${list.version ?? 'unknown'}`);
  }
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
    case 'publishers': // never: a list is a source of its own (trustSourceOf)
      throw new TypeError('publishers must name a list and its pinned root');
  }
}

const defaultWarning: Warn = (message) => process.stderr.write(`kernelseal: warning: ${message}\n`);
