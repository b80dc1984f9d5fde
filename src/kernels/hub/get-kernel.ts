import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { kernelsCommunityPolicy, type Policy } from '../../trust/policy.js';
import type { StringMatch } from '../../trust/string-match.js';
import type { Signer, TrustAnchor } from '../../sigstore/verify-bundle.js';
import type { TrustedRoot } from '../../sigstore/trusted-root.js';
import type { Digest } from '../../digest/digest.js';
import type { HashProgress } from '../../hashing/backend.js';
import type { KernelMetadata } from '../metadata.js';
import type { VerificationResult } from '../result.js';
import { verifyFiles, verifySignedMetadata } from '../verify-variant.js';
import { listVariantTree } from '../../hashing/variant-files.js';
import { isHashedKey } from '../../hashing/tree.js';
import { removeBytecode, sortUnhashed } from '../../hashing/unhashed-entries.js';
import { HubCache } from './cache.js';
import { offlineFromEnv } from './hub-env.js';
import { HubClient, HubError, type HubClientOptions, type HubFile } from './hub-client.js';
import { LockfileError, variantLockHash, type KernelLock } from './lockfile.js';
import { fingerprint, variantReceipt } from './receipts.js';
import { signerChangeRefusal } from './signer-continuity.js';
import { untrustedPublisherReason } from './publisher-flag.js';
import { StreamedBlobs } from './streamed-blobs.js';
import { HashMismatch, UnknownFile } from '../../digest/violations.js';
import { backendsFitting, selectVariant, type VariantSelector } from '../variant-name.js';

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
    /** The user's state folder (default KERNELSEAL_STATE_DIR, else $XDG_STATE_HOME/kernelseal, else ~/.local/state/kernelseal). */
    stateDir?: string;
    /** Files downloaded at once. */
    concurrency?: number;
    /** Download progress. */
    onProgress?: (progress: HashProgress) => void;
    /** Progress of hashing the files to verify them (when no receipt vouches for them). */
    onHashProgress?: (progress: HashProgress) => void;
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

const COMMIT = /^[0-9a-f]{40}$/;
const SIGNED_FILES = new Set(['metadata.json', 'metadata.json.sigstore']);

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
  const cache = new HubCache(options.cacheDir ?? HubCache.defaultRoot(), repoId, options.repoType ?? 'kernel');
  try {
    return await fetchKernel(repoId, options, cache);
  } finally {
    await cache.close(); // the folders this load wrote through, held open for it (src/fs/write-inside.ts)
  }
}

async function fetchKernel(repoId: string, options: GetKernelOptions, cache: HubCache): Promise<FetchedKernel> {
  const warn = options.onWarning ?? defaultWarning;
  const offline = options.offline ?? offlineFromEnv();
  const untrusted = await untrustedPublisherReason(repoId, options, offline, warn);
  if (untrusted) throw new KernelRefusedError(untrusted, undefined, undefined, 'PUBLISHER_UNTRUSTED');
  const revision = options.lock?.commit ?? options.revision ?? (options.version !== undefined ? `v${options.version}` : 'main');

  const { commit, variants, listing } = await resolveRevision(repoId, revision, cache, options, offline);
  if (options.lock && options.lock.commit !== commit) throw new LockfileError(`${repoId}: the Hub resolved ${revision} to ${commit}, not the locked commit`);

  const selector = options.selector ?? {};
  // A GPU backend is never guessed (a CUDA build on a CPU-only machine): when the variants that
  // fit span several, the caller must say which.
  const backends = options.variant || selector.backend ? [] : backendsFitting(variants, selector);
  if (backends.length > 1) {
    throw new KernelRefusedError(`${repoId}@${revision}: built for ${backends.join(', ')}: say which backend (selector.backend, --backend; with --backend-version for a GPU)`);
  }
  const variant = options.variant ?? selectVariant(variants, selector);
  if (!variant || !variants.includes(variant)) {
    // Names come from the Hub or the cache: quoted, so none can pose as a line of output.
    const named = variants.sort().map((name) => (/^[\w.+-]+$/.test(name) ? name : JSON.stringify(name)));
    throw new KernelRefusedError(`${repoId}@${revision}: no variant ${variant === undefined ? 'fits' : JSON.stringify(variant)}; available: ${named.join(', ') || 'none'}`);
  }

  const path = join(cache.snapshotDir(commit), 'build', variant);
  const base = { repoId, revision, commit, variant, path };
  const refuse = (result: VerificationResult) =>
    new KernelRefusedError(`${repoId}@${commit} ${variant}: refused: ${result.status}${'reason' in result ? `: ${result.reason}` : ''}`, result, base);
  const anchor = { ...options, policy: options.policy ?? (options.key || options.certificateChain ? undefined : kernelsCommunityPolicy) } as TrustAnchor & typeof options;
  const prefix = `build/${variant}/`;
  const client = listing ? new HubClient(options) : undefined;
  let progress = downloadProgress([], undefined);
  /**
   * Downloads `files` into the cache. Given the signed digest, each file is hashed with its
   * algorithm as it is written and refused, before it is placed, if that is not the signed
   * hash of its key; what was placed so is recorded in `streamed`.
   */
  const fetchFiles = async (files: HubFile[], signedDigest?: Digest, streamed?: StreamedBlobs) => {
    // A file the signed digest does not list fails the full check anyway: refused before any
    // download, so that a hostile listing of many folders cannot have the load make them, and
    // hold one descriptor per folder open until it ends (src/fs/write-inside.ts DirsInside).
    const unknown = signedDigest ? files.map((file) => file.path.slice(prefix.length)).filter((key) => !signedDigest.files.has(key)) : [];
    if (unknown.length > 0) throw refuse({ path, status: 'digest-mismatch', violations: unknown.map((key) => new UnknownFile(key)) });
    // What a load before placed is found all at once, not `concurrency` at a time: a second
    // load of 1,000 files online spent most of its time here (README.md, Benchmarks: second loads).
    const inPlace = await Promise.all(files.map((file) => cache.isPlaced(commit, file)));
    for (const _ of inPlace.filter(Boolean)) progress.file();
    await download(files.filter((_, i) => !inPlace[i]), options.concurrency ?? 4, progress, options.signal, async (file, onBytes, signal) => {
      const key = file.path.slice(prefix.length);
      const placed = await cache.ensureFile(
        commit,
        file,
        (incomplete) => client!.download(repoId, commit, file, incomplete, { signal, onBytes, algorithm: signedDigest?.algorithm }),
        signedDigest &&
          ((hash) => {
            const expected = signedDigest.files.get(key);
            const actual = Buffer.from(hash).toString('base64');
            if (expected !== undefined && expected !== actual) throw refuse({ path, status: 'digest-mismatch', violations: [new HashMismatch(key, expected, actual)] });
          }),
        signal,
      );
      if (placed) streamed?.record(placed);
    });
  };

  // Online, the signed files come first and their signature is verified before anything else is
  // fetched: the rest is then hashed as it is written (src/kernels/hub/streamed-blobs.ts).
  let rest: HubFile[] = [];
  if (listing) {
    const lockHash = options.lock?.variants[variant]?.hash;
    if (options.lock && !lockHash) throw new LockfileError(`${repoId}: the lock has no variant ${variant}`);
    if (lockHash && variantLockHash(listing, variant) !== lockHash) {
      throw new LockfileError(`${repoId}@${commit}: the files of ${variant} on the Hub do not match the locked hash ${lockHash}`);
    }
    // Only what the walk hashes (and the two signed files): never bytecode, never a file the
    // digest would leave out (src/hashing/tree.ts isHashedKey).
    const wanted = listing.filter((f) => f.path.startsWith(prefix) && (isHashedKey(f.path.slice(prefix.length)) || SIGNED_FILES.has(f.path.slice(prefix.length))));
    progress = downloadProgress(wanted, options.onProgress);
    await fetchFiles(wanted.filter((f) => SIGNED_FILES.has(f.path.slice(prefix.length))));
    rest = wanted.filter((f) => !SIGNED_FILES.has(f.path.slice(prefix.length)));
  }

  const signed = await verifySignedMetadata(path, anchor);
  const signerChanged = await signerChangeRefusal(repoId, signed, options, warn);
  if (signerChanged) throw refuse({ path, status: 'signature-invalid', reason: signerChanged });
  if ('result' in signed) {
    if (signed.result.status === 'signature-missing' && options.allowUnsigned) {
      await fetchFiles(rest);
      warn(`${repoId}@${commit} ${variant} is NOT SIGNED: loading it anyway because allowUnsigned is set; nothing vouches for this code`);
      return { ...base, verified: false, fromReceipt: false };
    }
    throw refuse(signed.result);
  }
  const { signer, metadata, digest, metadataBytes } = signed.value;
  const receipt = await variantReceipt(cache, { repoId, commit, variant, metadataBytes }, warn);
  const verified = { ...base, verified: true, signer, metadata, digest };
  // Bytecode (Python writes __pycache__ here on import; anyone sharing the cache could plant
  // some) is removed first: Python rebuilds it from the verified sources. Any other entry the
  // digest leaves out voids the receipt, and the full check below refuses it.
  // One walk serves the bytecode check, the receipt, the streamed blobs and the fingerprint before hashing.
  const walk = async () => {
    const tree = await listVariantTree(path, undefined, true).catch(() => undefined);
    const { bytecode, refused } = sortUnhashed(tree?.unhashed ?? []);
    await removeBytecode(path, bytecode);
    return { tree, clean: tree && refused.length === 0 ? tree : undefined };
  };
  // Online, a receipt that holds for the variant as the cache has it already makes the rest of
  // the download moot: the same check as below (and offline), asked before the files are
  // checked for being in place one by one (README.md, Benchmarks: a second load online). The receipt binds
  // the commit, so the files it vouches for are the ones the listing names.
  if (rest.length > 0) {
    const early = (await walk()).clean;
    if (early && (await receipt.holds(path, early.entries))) {
      for (const _ of rest) progress.file();
      return { ...verified, fromReceipt: true };
    }
  }
  const streamed = new StreamedBlobs();
  await fetchFiles(rest, digest, streamed);
  const { tree, clean } = await walk();
  if (clean) {
    if (await receipt.holds(path, clean.entries)) return { ...verified, fromReceipt: true };
    const vouched = await streamed.vouch(path, clean.entries, digest);
    if (vouched) {
      await receipt.write(vouched);
      return { ...verified, fromReceipt: false };
    }
  }
  const before = await fingerprint(path, tree?.entries);
  // Bytecode in the cache (Python writes __pycache__ there on import; anyone sharing the cache
  // could plant some) is removed: Python rebuilds it from the verified sources.
  const files = await verifyFiles(path, digest, { ...anchor, bytecode: 'remove', onProgress: options.onHashProgress });
  if ('result' in files) throw new KernelRefusedError(`${repoId}@${commit} ${variant}: refused: ${files.result.status}`, files.result, base);
  const after = await fingerprint(path);
  // Only files that did not move while they were hashed earn a receipt.
  if (JSON.stringify(before) === JSON.stringify(after)) await receipt.write(after);
  return { ...verified, fromReceipt: false };
}

/**
 * The commit a revision names and the variants under build/ there: from the Hub, or (offline)
 * from what the cache holds. Records the revision's commit in the cache.
 */
async function resolveRevision(repoId: string, revision: string, cache: HubCache, options: HubClientOptions & { onWarning?: (message: string) => void }, offline: boolean) {
  if (!offline) {
    try {
      const { commit, files } = await new HubClient(options).revision(repoId, revision);
      if (!COMMIT.test(revision)) await cache.writeRef(revision, commit);
      const variants = [...new Set(files.filter((f) => f.path.startsWith('build/')).map((f) => f.path.split('/')[1]!))].sort();
      return { commit, variants, listing: files };
    } catch (error) {
      // As huggingface_hub does: a Hub that cannot be reached (not one that answers "no") falls
      // back to what the cache holds, which is verified all the same.
      const cached = error instanceof HubError && error.unreachable ? await cachedRevision(revision, cache) : undefined;
      if (!cached) throw error;
      (options.onWarning ?? defaultWarning)(`${(error as Error).message}; using ${repoId}@${revision} from the cache (${cached})`);
    }
  }
  const commit = COMMIT.test(revision) ? revision : await cache.readRef(revision);
  if (!commit) throw new KernelRefusedError(`${repoId}@${revision} is not in the cache and offline mode is on (HF_HUB_OFFLINE)`);
  const variants = await readdir(join(cache.snapshotDir(commit), 'build')).catch(() => [] as string[]);
  return { commit, variants: variants.sort(), listing: undefined };
}

/** The commit a revision resolved to last time, if the cache holds its snapshot. */
async function cachedRevision(revision: string, cache: HubCache): Promise<string | undefined> {
  const commit = COMMIT.test(revision) ? revision : await cache.readRef(revision);
  return commit && (await stat(cache.snapshotDir(commit)).then((info) => info.isDirectory(), () => false)) ? commit : undefined;
}

const defaultWarning = (message: string) => process.stderr.write(`kernelseal: warning: ${message}\n`);

/** The variants of a kernel at a revision (`version` or `revision`, as getKernel resolves them). */
export async function listVariants(repoId: string, options: GetKernelOptions = {}): Promise<{ revision: string; commit: string; variants: string[] }> {
  const revision = options.lock?.commit ?? options.revision ?? (options.version !== undefined ? `v${options.version}` : 'main');
  const cache = new HubCache(options.cacheDir ?? HubCache.defaultRoot(), repoId, options.repoType ?? 'kernel');
  const { commit, variants } = await resolveRevision(repoId, revision, cache, options, options.offline ?? offlineFromEnv());
  return { revision, commit, variants };
}

/** Download progress over all the files of a fetch, fetched in several runs. */
function downloadProgress(files: HubFile[], onProgress: GetKernelOptions['onProgress']) {
  const state = { bytesDone: 0, filesDone: 0, bytesTotal: files.reduce((sum, f) => sum + f.size, 0), filesTotal: files.length };
  return {
    bytes(n: number) {
      state.bytesDone += n;
      onProgress?.({ ...state });
    },
    file() {
      state.filesDone += 1;
      onProgress?.({ ...state });
    },
  };
}

/**
 * Runs `fetchOne` over `files`, `concurrency` at a time, reporting progress; the first failure
 * stops it: nothing new starts, the files under way are aborted (through the signal `fetchOne`
 * is given), and it is thrown once they have settled (none may still write through the cache's
 * folders once the load closes them: src/fs/write-inside.ts).
 */
async function download(
  files: HubFile[],
  concurrency: number,
  progress: ReturnType<typeof downloadProgress>,
  signal: AbortSignal | undefined,
  fetchOne: (file: HubFile, onBytes: (n: number) => void, signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const stop = new AbortController();
  const stopped = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  const worker = async () => {
    try {
      for (let index = next++; index < files.length && !failure; index = next++) {
        signal?.throwIfAborted();
        await fetchOne(files[index]!, progress.bytes, stopped);
        progress.file();
      }
    } catch (error) {
      failure ??= { error }; // the others start nothing new, and stop what they are fetching
      stop.abort(new Error('stopped: another download failed'));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  if (failure) throw failure.error;
}

export { HubError };
