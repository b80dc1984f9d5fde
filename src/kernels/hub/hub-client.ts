import type { FileHandle } from 'node:fs/promises';
import { fstatSync } from 'node:fs';
import { unsafePathReason } from '../../fs/relative-path.js';
import { openRegular, UnsafePathError } from '../../fs/write-inside.js';
import type { DigestAlgorithm } from '../../digest/algorithm.js';
import { createStreamHasher, type HashPart } from '../../hashing/stream-hasher.js';
import { USER_AGENT } from '../../version.js';
import { hubEndpoint, hubToken } from './hub-env.js';
import { isCommit } from '../../commit.js';

/** A Hub repository kind: kernels live in `kernel` repos; `model` repos hold older ones. */
export type RepoType = 'kernel' | 'model';

/** A file of a repository at a commit, as the Hub lists it. */
export interface HubFile {
  path: string;
  size: number;
  /** The Git blob ID (SHA-1, hex) of the file, or of its LFS pointer. */
  blobId: string;
  /** For LFS files: the SHA-256 (hex) of the content. */
  lfsSha256?: string;
}

export interface HubRevision {
  commit: string;
  files: HubFile[];
}

/**
 * Why the Hub failed us: no answer at all (`HUB_UNREACHABLE`: refused, reset, timed out; the
 * cache may stand in), an error status (`HUB_STATUS`, in `status`), or an answer we refuse
 * (`HUB_REFUSED`: a listing or download that is malformed or does not match).
 */
export type HubErrorCode = 'HUB_UNREACHABLE' | 'HUB_STATUS' | 'HUB_REFUSED';

/** The Hub answered with an error, could not be reached, or sent something we refuse. */
export class HubError extends Error {
  override readonly name = 'HubError';
  readonly code: HubErrorCode;
  constructor(
    message: string,
    readonly status?: number,
    /** No answer at all (refused, reset, timed out): the cache may stand in. */
    readonly unreachable = false,
  ) {
    super(message);
    this.code = unreachable ? 'HUB_UNREACHABLE' : status !== undefined ? 'HUB_STATUS' : 'HUB_REFUSED';
  }
}

export interface HubClientOptions {
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /**
   * Default: HF_TOKEN, else the token `hf auth login` wrote (src/kernels/hub/hub-env.ts). Sent to the
   * endpoint only, never to the hosts it redirects to.
   */
  token?: string;
  repoType?: RepoType;
  /**
   * The longest wait for any answer: a response to a request (connecting included), or the next
   * bytes of a body. Past it the request fails, naming the server. Default 30 s.
   */
  timeoutMs?: number;
  /** Attempts per file download; each retry resumes where the last one stopped. */
  attempts?: number;
}

const SHA1 = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** How much of a download is written before it is flushed to disk in the background. */
const FLUSH_BYTES = 64 * 1024 * 1024;

/** The variants a listing of a revision holds: the folders under `build/`, sorted. */
export function listedVariants(files: readonly HubFile[]): string[] {
  return [...new Set(files.filter((f) => f.path.startsWith('build/')).map((f) => f.path.split('/')[1]!))].sort();
}

/**
 * A small client of the Hub's HTTP API: what a kernel fetch needs and nothing more. It resolves a
 * revision to a commit with every file's size and object ID, and downloads files with resumed,
 * size-checked and content-checked (Git blob ID or LFS SHA-256) transfers.
 */
export class HubClient {
  readonly endpoint: string;
  private readonly token: string | undefined;
  private readonly repoType: RepoType;
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(options: HubClientOptions = {}) {
    this.endpoint = (options.endpoint ?? hubEndpoint()).replace(/\/+$/, '');
    this.token = options.token ?? hubToken();
    this.repoType = options.repoType ?? 'kernel';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.attempts = options.attempts ?? 5;
  }

  /** `GET /api/<type>s/<repo>/revision/<rev>?blobs=true`: the commit and its files. */
  async revision(repoId: string, revision: string): Promise<HubRevision> {
    const url = `${this.endpoint}/api/${this.repoType}s/${repoId}/revision/${encodeURIComponent(revision)}?blobs=true`;
    const { response, watchdog } = await this.get(url, {});
    let body: { id?: unknown; sha?: unknown; siblings?: unknown };
    try {
      if (response.status === 404) throw new HubError(`${repoId}: no such repository or revision ${revision}`, 404);
      if (!response.ok) throw new HubError(`${repoId}@${revision}: the Hub answered ${response.status}`, response.status);
      body = (await response.json().catch((error: unknown) => {
        if (watchdog.fired) throw watchdog.error();
        throw new HubError(`${repoId}@${revision}: the Hub sent a listing that is not JSON (${(error as Error).message})`);
      })) as typeof body;
    } finally {
      watchdog.stop();
    }
    // A renamed repository answers for its new name (the Hub redirects the old one): what was
    // decided for the name asked (a policy, a publisher list's entry, a lock) is not carried over
    // to another repository. Names compare as the Hub compares them, case-insensitively.
    if (typeof body.id !== 'string' || body.id.toLowerCase() !== repoId.toLowerCase()) {
      throw new HubError(`${repoId}@${revision}: the Hub answered for ${typeof body.id === 'string' ? `another repository, ${JSON.stringify(body.id)} (renamed?): ask for it by that name, so that what you trust is decided for it` : 'no repository (no id in its answer)'}`);
    }
    if (!isCommit(body.sha)) throw new HubError(`${repoId}@${revision}: the Hub sent no commit`);
    if (!Array.isArray(body.siblings)) throw new HubError(`${repoId}@${revision}: the Hub sent no file list`);
    return { commit: body.sha, files: body.siblings.map((sibling) => hubFile(sibling, `${repoId}@${revision}`)) };
  }

  /**
   * `GET /api/organizations/<org>/overview`: whether the Hub marks the organisation a trusted
   * kernel publisher (`trustedKernelPublisher`, what the kernels library reads before a load).
   * Anything but an answer saying true or false is an error.
   */
  async trustedKernelPublisher(org: string): Promise<boolean> {
    const url = `${this.endpoint}/api/organizations/${encodeURIComponent(org)}/overview`;
    const { response, watchdog } = await this.get(url, {});
    try {
      if (response.status === 404) throw new HubError(`${org}: no such organisation on the Hub`, 404);
      if (!response.ok) throw new HubError(`${org}: the Hub answered ${response.status}`, response.status);
      const body = (await response.json().catch((error: unknown) => {
        if (watchdog.fired) throw watchdog.error();
        throw new HubError(`${org}: the Hub sent an overview that is not JSON (${(error as Error).message})`);
      })) as { trustedKernelPublisher?: unknown } | null;
      const flag = body?.trustedKernelPublisher ?? false;
      if (typeof flag !== 'boolean') throw new HubError(`${org}: the Hub sent a trustedKernelPublisher that is not true or false`);
      return flag;
    } finally {
      watchdog.stop();
    }
  }

  /**
   * Downloads `file` at `commit` into `destination`, resuming from what is already there
   * (a previous, interrupted attempt), retrying dropped connections, and refusing a file whose
   * size or object ID differs from the listing. With `algorithm`, the bytes are also hashed
   * with it as they are written (the signed digest's algorithm), and that raw hash of the whole
   * file is returned: the file need not be read again to be verified.
   *
   * `destination` is a path, opened for each attempt (never through a link, never a FIFO), or a
   * regular file the caller opened for reading and writing: every attempt writes into that very
   * file, whatever is put under its name meanwhile, and leaves it open.
   */
  async download(repoId: string, commit: string, file: HubFile, destination: string | FileHandle, options: DownloadOptions = {}): Promise<Uint8Array | undefined> {
    const fetched = await this.fetchBlob(repoId, commit, file, destination, options);
    if ('wrongContent' in fetched) throw fetched.wrongContent;
    return fetched.hash;
  }

  /**
   * `download`, with content that is not the object the listing names as an outcome
   * (`wrongContent`, the error `download` throws for it) rather than a throw: whoever placed the
   * destination discards it, where a download cut short is kept to resume. Never retried: the
   * same bytes would hash the same.
   */
  async fetchBlob(repoId: string, commit: string, file: HubFile, destination: string | FileHandle, options: DownloadOptions = {}): Promise<FetchedBlob> {
    const prefix = this.repoType === 'model' ? '' : `${this.repoType}s/`;
    const url = `${this.endpoint}/${prefix}${repoId}/resolve/${commit}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
    let lastError: unknown;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      options.signal?.throwIfAborted();
      try {
        return await this.downloadOnce(url, file, destination, options);
      } catch (error) {
        // A client error is final, and so is a busy Hub: get() already waited on it as long as allowed.
        if (error instanceof HubError && error.status !== undefined && (error.status < 500 || error.status === 503)) throw error;
        if (error instanceof UnsafePathError) throw error; // a planted link or FIFO stays there
        if (options.signal?.aborted) throw options.signal.reason;
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
    throw new HubError(`${file.path}: download failed after ${this.attempts} attempts: ${(lastError as Error)?.message ?? lastError}`);
  }

  private async downloadOnce(url: string, file: HubFile, destination: string | FileHandle, options: DownloadOptions): Promise<FetchedBlob> {
    // One handle for the whole attempt, never through a link, never a FIFO: the destination may
    // sit in a cache others write to.
    const handle = typeof destination === 'string' ? await openRegular(destination) : destination;
    try {
      const have = fstatSync(handle.fd).size; // synchronous, as the cache's metadata calls (src/fs/write-inside.ts DirsInside)
      if (have > file.size) throw new HubError(`${file.path}: partial download larger than the file`);
      const hash = contentHash(file, options.algorithm);
      try {
        if (have > 0) for await (const chunk of handle.createReadStream({ start: 0, end: have - 1, autoClose: false })) await hash.update(chunk as Buffer);
        const request = have > 0 && have === file.size ? undefined : await this.get(url, have > 0 ? { range: `bytes=${have}-` } : {}, options.signal);
        let written = have;
        if (request) {
          const { response, watchdog } = request;
          try {
            written = await this.receive(response, watchdog, file, handle, hash, have, options.onBytes);
          } finally {
            watchdog.stop();
          }
        }
        if (written !== file.size) throw new Error(`${file.path}: connection closed after ${written} of ${file.size} bytes`);
        const actual = await hash.digest().catch((error: Error) => {
          throw new Error(`${file.path}: ${error.message}`);
        });
        if (actual.id !== (file.lfsSha256 ?? file.blobId)) {
          // 422 (Unprocessable Content) for callers of `download`, who see only the error.
          return { wrongContent: new HubError(`${file.path}: content does not match the ${file.lfsSha256 ? 'LFS SHA-256' : 'Git blob ID'} the Hub listed`, 422) };
        }
        return { hash: actual.hash };
      } finally {
        await hash.close(); // a worker hashing a large file never outlives its download
      }
    } finally {
      if (handle !== destination) await handle.close();
    }
  }

  /**
   * Writes the body of `response` into `handle` after the `have` bytes already there (or from
   * the start, when the server sent the whole file), feeding `hash`; returns the bytes now in
   * the file. Each chunk restarts the watchdog: a body that stops is an error naming the server.
   */
  private async receive(
    response: Response,
    watchdog: Watchdog,
    file: HubFile,
    handle: FileHandle,
    hash: ReturnType<typeof contentHash>,
    have: number,
    onBytes: ((n: number) => void) | undefined,
  ): Promise<number> {
    if (!response.ok) throw new HubError(`${file.path}: the Hub answered ${response.status}`, response.status);
    let written = have;
    if (response.status !== 206 && have > 0) {
      // The server sent the whole file, not the rest: start over.
      await handle.truncate(0);
      written = 0;
      hash.restart();
    }
    // Written data is flushed to disk in the background as it arrives (one flush at a time), so
    // that the fsync before the blob is placed (src/kernels/hub/cache.ts) finds little left.
    let flushing: Promise<void> | undefined;
    let unflushed = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        watchdog.kick();
        if (written + chunk.length > file.size) throw new HubError(`${file.path}: the Hub sent more than the ${file.size} bytes it listed`);
        // The write runs on libuv's pool while the same (unchanging) bytes are hashed: here, or
        // for a large file copied to a worker thread (src/hashing/stream-hasher.ts).
        const writing = handle.write(chunk, 0, chunk.length, written);
        const hashing = hash.update(chunk).catch((error: Error) => {
          throw new Error(`${file.path}: ${error.message}`);
        });
        // Both settle before either failure is thrown: one handle serves every attempt of a
        // download, so a write still in flight when the hash failed would land after the next
        // attempt had measured the file (found by the attack review of that change).
        const [wrote, hashed] = await Promise.allSettled([writing, hashing]);
        if (wrote.status === 'rejected') throw wrote.reason;
        if (hashed.status === 'rejected') throw hashed.reason;
        // A short write (a full disk, a file size limit, a network file system) would leave a
        // hole the streamed hash never saw: only whole chunks count.
        const { bytesWritten } = wrote.value;
        if (bytesWritten !== chunk.length) throw new HubError(`${file.path}: wrote ${bytesWritten} of ${chunk.length} bytes to the cache (is the disk full?)`);
        written += chunk.length;
        unflushed += chunk.length;
        if (unflushed >= FLUSH_BYTES && !flushing) {
          unflushed = 0;
          flushing = handle.datasync().finally(() => (flushing = undefined));
        }
        onBytes?.(chunk.length);
      }
    } catch (error) {
      throw watchdog.fired ? watchdog.error() : error;
    } finally {
      await flushing?.catch(() => {}); // the handle is closed next; a failed flush shows in the final fsync
    }
    return written;
  }

  /**
   * A GET whose every wait (connecting, the headers, then each chunk: `watchdog.kick()`) is
   * bounded. A busy Hub (429 Too Many Requests, 503 Service Unavailable) is asked again after the
   * `Retry-After` it sends (seconds or an HTTP date; else 1 s, doubling), as long as the waits
   * together stay within the deadline (`timeoutMs`); past it, the request fails as HUB_STATUS,
   * saying when the Hub asked to be tried again.
   */
  private async get(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<{ response: Response; watchdog: Watchdog }> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const answer = await this.getOnce(url, headers, signal);
      const { response, watchdog } = answer;
      if (response.status !== 429 && response.status !== 503) return answer;
      watchdog.stop();
      await response.body?.cancel().catch(() => {});
      const wait = retryAfterMs(response.headers.get('retry-after')) ?? 1000 * 2 ** attempt;
      const server = `the Hub (${new URL(url).origin})`;
      if (waited + wait > this.timeoutMs || attempt + 1 >= this.attempts) {
        const when = response.headers.get('retry-after');
        throw new HubError(
          `${server} is busy (${response.status}${when ? `, retry after ${when}` : ''}): gave up after ${attempt + 1} attempts within the ${this.timeoutMs / 1000} s deadline`,
          response.status,
        );
      }
      waited += wait;
      await sleep(wait, signal);
    }
  }

  private async getOnce(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<{ response: Response; watchdog: Watchdog }> {
    // fetch drops Authorization when a redirect leaves the endpoint's origin (Fetch standard).
    const auth: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const watchdog = new Watchdog(this.timeoutMs, `the Hub (${new URL(url).origin})`);
    try {
      const response = await fetch(url, {
        headers: { 'user-agent': USER_AGENT, ...auth, ...headers },
        redirect: 'follow',
        signal: signal ? AbortSignal.any([signal, watchdog.signal]) : watchdog.signal,
      });
      watchdog.kick();
      return { response, watchdog };
    } catch (error) {
      watchdog.stop();
      if (signal?.aborted) throw signal.reason;
      if (watchdog.fired) throw watchdog.error();
      const cause = (error as Error).cause ? ((error as Error).cause as Error).message : (error as Error).message;
      throw new HubError(`cannot reach the Hub (${new URL(url).origin}): ${cause}`, undefined, true);
    }
  }
}

/**
 * A Retry-After header (RFC 9110 section 10.2.3) as milliseconds from now: delay-seconds, or an
 * HTTP date (a date already past is no wait). Undefined when absent or unreadable.
 */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) || !/[A-Za-z]/.test(text) ? undefined : Math.max(0, date - now);
}

/** Waits `ms`, or until `signal` aborts (then throws its reason). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Aborts a request when nothing arrives for `ms`: a server that accepts the connection and never
 * answers, or stops sending mid-body, fails in bounded time with an error naming it.
 */
class Watchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  fired = false;

  constructor(
    private readonly ms: number,
    private readonly server: string,
  ) {
    this.kick();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Something arrived: the wait starts again. */
  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(this.error());
    }, this.ms);
    this.timer.unref(); // the request holds the process open, not its watchdog
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  error(): HubError {
    return new HubError(`${this.server} did not answer within ${this.ms / 1000} s (timed out)`, undefined, true);
  }
}

/**
 * What a download wrote: the object the listing names (with `algorithm`, its raw hash with that
 * algorithm), or other bytes (`wrongContent`: the error that names them).
 */
export type FetchedBlob = { hash?: Uint8Array } | { wrongContent: HubError };

export interface DownloadOptions {
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
  /** Also hash the content with this algorithm as it is written, and return that hash. */
  algorithm?: DigestAlgorithm;
}

/**
 * A restartable hash of a file's content as the Hub names it (LFS SHA-256 or Git blob SHA-1),
 * and with `algorithm` as well. An LFS file's SHA-256 is the hash a sha256 digest signs, so one
 * hash serves both: each byte is hashed once. A large file is hashed on a worker thread
 * (src/hashing/stream-hasher.ts); `close` ends it.
 */
function contentHash(file: HubFile, algorithm: DigestAlgorithm | undefined) {
  const shared = file.lfsSha256 !== undefined && algorithm === 'sha256';
  // A Git blob ID hashes a header first.
  const parts: HashPart[] = [file.lfsSha256 ? { algorithm: 'sha256' } : { algorithm: 'sha1', header: `blob ${file.size}\0` }];
  if (algorithm && !shared) parts.push({ algorithm });
  const hasher = createStreamHasher(parts, file.size);
  return {
    update: (data: Uint8Array) => hasher.update(data),
    restart: () => hasher.restart(),
    close: () => hasher.close(),
    async digest(): Promise<{ id: string; hash?: Uint8Array }> {
      const [raw, signed] = await hasher.digest();
      return { id: Buffer.from(raw!).toString('hex'), hash: shared ? raw : signed };
    },
  };
}

/** A sibling of the listing, checked: a safe relative path, a size, object IDs in hex. */
function hubFile(sibling: unknown, where: string): HubFile {
  const s = sibling as { rfilename?: unknown; size?: unknown; blobId?: unknown; lfs?: { sha256?: unknown; size?: unknown } };
  if (typeof s?.rfilename !== 'string') throw new HubError(`${where}: the Hub listed a file without a name`);
  const unsafe = unsafePathReason(s.rfilename);
  if (unsafe) throw new HubError(`${where}: the Hub listed ${JSON.stringify(s.rfilename)}, ${unsafe}: refused`);
  const size = s.lfs?.size ?? s.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new HubError(`${where}: no size for ${s.rfilename}`);
  if (typeof s.blobId !== 'string' || !SHA1.test(s.blobId)) throw new HubError(`${where}: no blob ID for ${s.rfilename}`);
  if (s.lfs !== undefined && (typeof s.lfs.sha256 !== 'string' || !SHA256.test(s.lfs.sha256))) {
    throw new HubError(`${where}: a bad LFS SHA-256 for ${s.rfilename}`);
  }
  return { path: s.rfilename, size, blobId: s.blobId, ...(s.lfs ? { lfsSha256: s.lfs.sha256 as string } : {}) };
}

/** What fetchBytes needs: the Hub client's endpoint, token and deadline, a bound, and a way to cancel. */
export interface FetchBytesOptions extends Pick<HubClientOptions, 'endpoint' | 'token' | 'timeoutMs'> {
  /** Read no more than this; a larger answer is refused (HUB_REFUSED). */
  maxBytes: number;
  signal?: AbortSignal;
}

/**
 * One GET of a small file for readers other than the kernel fetch (a publisher list's TUF
 * metadata, docs/publishers.md): the user agent and deadline (for the answer and for each chunk)
 * of HubClient, the token sent only to the Hub endpoint's own origin (never to another server,
 * nor to the hosts a redirect leads to), at most `maxBytes` read. An error status is a HubError
 * carrying it; no answer is HUB_UNREACHABLE.
 */
export async function fetchBytes(url: string, options: FetchBytesOptions): Promise<Uint8Array> {
  const endpoint = new URL((options.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, ''));
  const target = new URL(url);
  const token = target.origin === endpoint.origin ? (options.token ?? hubToken()) : undefined;
  const server = target.origin === endpoint.origin ? `the Hub (${target.origin})` : target.origin;
  const watchdog = new Watchdog(options.timeoutMs ?? 30_000, server);
  const signal = options.signal ? AbortSignal.any([options.signal, watchdog.signal]) : watchdog.signal;
  let response: Response;
  try {
    response = await fetch(url, { headers: { 'user-agent': USER_AGENT, ...(token ? { authorization: `Bearer ${token}` } : {}) }, redirect: 'follow', signal });
    watchdog.kick();
  } catch (error) {
    watchdog.stop();
    if (options.signal?.aborted) throw options.signal.reason;
    if (watchdog.fired) throw watchdog.error();
    const cause = (error as Error).cause ? ((error as Error).cause as Error).message : (error as Error).message;
    throw new HubError(`cannot reach ${server}: ${cause}`, undefined, true);
  }
  try {
    if (!response.ok) throw new HubError(`${url}: ${server} answered ${response.status}`, response.status);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      watchdog.kick();
      total += chunk.length;
      if (total > options.maxBytes) throw new HubError(`${url}: more than the ${options.maxBytes} bytes allowed`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  } catch (error) {
    throw watchdog.fired ? watchdog.error() : error;
  } finally {
    watchdog.stop();
    await response.body?.cancel().catch(() => {});
  }
}
