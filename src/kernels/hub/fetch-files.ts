import type { FileHandle } from 'node:fs/promises';
import type { Digest } from '../../digest/digest.js';
import type { HashProgress } from '../../hashing/backend.js';
import { isHashedKey } from '../../hashing/tree.js';
import { HashMismatch, UnknownFile } from '../../digest/violations.js';
import { SYNC_ONCE_FILES, type HubCache, type PlacedBlob } from './cache.js';
import { HubClient, type HubFile } from './hub-client.js';
import { LockfileError, variantLockHash } from './lockfile.js';
import type { TransferOptions } from './load-options.js';
import { refusal, type LoadedVariant } from './load-outcome.js';

const SIGNED_FILES = new Set(['metadata.json', 'metadata.json.sigstore']);


/** The signed digest downloads are checked against as they stream in, and where what was placed so is told. */
export interface StreamCheck {
  digest: Digest;
  onStreamed: (blob: PlacedBlob) => void;
}

/**
 * Stage 4, fetch the signed files: online, the variant's files the walk hashes (never bytecode,
 * never a file the digest would leave out: src/hashing/tree.ts isHashedKey) are checked against
 * the lock's hash, then metadata.json and its bundle are downloaded, alone: their signature is
 * verified before anything else is fetched (the rest is then hashed as it is written). Hands
 * back the rest, for stage 6; offline, nothing.
 */
export async function fetchSignedFiles(files: VariantFiles, listing: HubFile[] | undefined, lockHash: string | undefined): Promise<HubFile[]> {
  if (!listing) return [];
  const { repoId, commit, variant } = files.kernel;
  if (lockHash && variantLockHash(listing, variant) !== lockHash) {
    throw new LockfileError(`${repoId}@${commit}: the files of ${variant} on the Hub do not match the locked hash ${lockHash}`);
  }
  const prefix = `build/${variant}/`;
  const key = (file: HubFile) => file.path.slice(prefix.length);
  const wanted = listing.filter((f) => f.path.startsWith(prefix) && (isHashedKey(key(f)) || SIGNED_FILES.has(key(f))));
  files.expect(wanted);
  await files.fetch(wanted.filter((f) => SIGNED_FILES.has(key(f))));
  return wanted.filter((f) => !SIGNED_FILES.has(key(f)));
}

/**
 * The downloads of one load into the cache's snapshot of its commit, with progress over all of
 * them. A file already in the cache counts by its size when the signed digest will check it,
 * unless a lock pins it; without a digest (the signed files themselves, which pin all the
 * others' content, or a variant taken unsigned) or with a lock, only if its content is the
 * object the listing names: else it is downloaded again.
 */
export class VariantFiles {
  private client: HubClient | undefined;
  private readonly prefix: string;
  private progress = downloadProgress([], undefined);

  constructor(
    readonly kernel: LoadedVariant,
    private readonly cache: HubCache,
    private readonly options: TransferOptions,
    private readonly pinned: boolean,
  ) {
    this.prefix = `build/${kernel.variant}/`;
  }

  /** All the files this load may fetch, in several runs: the totals of its progress. */
  expect(files: HubFile[]): void {
    this.progress = downloadProgress(files, this.options.onProgress);
  }

  /** Counts `count` files as done without fetching them (a receipt made them moot). */
  skip(count: number): void {
    for (let i = 0; i < count; i++) this.progress.file();
  }

  /**
   * Downloads `files` into the cache. Given `check`, each is hashed with the signed digest's
   * algorithm as it is written and refused, before it is placed, if that is not the signed hash
   * of its key; what was placed so is told to `check.onStreamed`.
   */
  async fetch(files: HubFile[], check?: StreamCheck): Promise<void> {
    const checkContent = check === undefined || this.pinned;
    // A file the signed digest does not list fails the full check anyway: refused before any
    // download, so that a hostile listing of many folders cannot have the load make them, and
    // hold one descriptor per folder open until it ends (src/fs/write-inside.ts DirsInside).
    const unknown = check ? files.map((file) => this.key(file)).filter((key) => !check.digest.files.has(key)) : [];
    if (unknown.length > 0) throw refusal(this.kernel, { path: this.kernel.path, status: 'digest-mismatch', violations: unknown.map((key) => new UnknownFile(key)) });
    // What a load before placed is found all at once, not `concurrency` at a time: a second
    // load of 1,000 files online spent most of its time here.
    const inPlace = await Promise.all(files.map((file) => this.cache.isPlaced(this.kernel.commit, file, checkContent)));
    this.skip(inPlace.filter(Boolean).length);
    const missing = files.filter((_, i) => !inPlace[i]);
    const syncLater = missing.length >= SYNC_ONCE_FILES;
    await download(missing, this.options, this.progress, (file, onBytes, signal) => this.fetchOne(file, onBytes, signal, { checkContent, syncLater }, check));
  }

  /** One file into the cache: downloaded (and, given `check`, judged as it streamed in), then placed. */
  private async fetchOne(file: HubFile, onBytes: (n: number) => void, signal: AbortSignal, { checkContent, syncLater }: { checkContent: boolean; syncLater: boolean }, check: StreamCheck | undefined): Promise<void> {
    const { repoId, commit } = this.kernel;
    this.client ??= new HubClient(this.options.hub); // only once there is something to download
    const client = this.client;
    const fetchInto = (incomplete: FileHandle) => client.fetchBlob(repoId, commit, file, incomplete, { signal, onBytes, algorithm: check?.digest.algorithm });
    const expected = check?.digest.files.get(this.key(file));
    const accept = check && ((hash: Uint8Array) => expected === undefined || expected === Buffer.from(hash).toString('base64'));
    const placed = await this.cache.ensureFile(commit, file, fetchInto, { accept, signal, checkContent, syncLater });
    switch (placed.outcome) {
      case 'wrong-content':
        throw placed.error;
      case 'rejected': {
        const violation = new HashMismatch(this.key(file), expected!, Buffer.from(placed.hash).toString('base64'));
        throw refusal(this.kernel, { path: this.kernel.path, status: 'digest-mismatch', violations: [violation] });
      }
      case 'streamed':
        check?.onStreamed(placed.blob);
    }
  }

  private key(file: HubFile): string {
    return file.path.slice(this.prefix.length);
  }
}

type Progress = ReturnType<typeof downloadProgress>;

/** Download progress over all the files of a fetch, fetched in several runs. */
function downloadProgress(files: HubFile[], onProgress: ((progress: HashProgress) => void) | undefined) {
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
  { concurrency, signal }: Pick<TransferOptions, 'concurrency' | 'signal'>,
  progress: Progress,
  fetchOne: (file: HubFile, onBytes: (n: number) => void, signal: AbortSignal) => Promise<void>,
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
