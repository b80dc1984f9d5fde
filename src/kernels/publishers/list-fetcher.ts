import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Fetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { readBounded } from '../../fs/read-bounded.js';
import { parseStrictJSON } from '../../json/strict-json.js';
import { MAX_LIST_BYTES, PublisherListError } from '../../trust/publisher-list.js';
import { fetchBytes, HubError, type HubClientOptions } from '../hub/hub-client.js';
import type { ListLocation } from './list-location.js';
import { RootRefusedError, readRoot } from './root-rules.js';

/** The most bytes read of each kind of file: far above a one-target repository, far below harm. */
export const MAX_BYTES = { root: 128 * 1024, timestamp: 16 * 1024, snapshot: 64 * 1024, targets: 256 * 1024, target: MAX_LIST_BYTES } as const;

/**
 * `network`: a full refresh, over the Hub client (or from the folder). `cache`: no request at
 * all: the roots and timestamp this client verified before, and nothing else (tuf-js then keeps
 * its cached snapshot and targets, or fails).
 */
export type FetchMode = 'network' | 'cache';

/** What a cache-only refresh lacked: the caller refreshes from the network instead, or fails offline. */
export class NotCachedError extends Error {
  override readonly name = 'NotCachedError';
}

/**
 * tuf-js's Fetcher over the Hub client (token, endpoint, deadlines) for one list: every file
 * bounded by kind, every metadata file strict JSON, every root checked by our rules before
 * tuf-js may trust it (root-rules.ts: tuf-js counts key IDs, not keys). Roots this client
 * verified before come from its cache. Counts the requests it makes.
 */
export class ListFetcher implements Fetcher {
  /** HTTP requests made (reads of a folder count too): tests prove the cache path makes none. */
  requests = 0;
  /** Roots newly obtained, by version: the caller caches them once the refresh holds. */
  readonly newRoots = new Map<number, Uint8Array>();
  /**
   * The last error this fetcher raised: tuf-js wraps some in errors of its own that keep only
   * the text (a snapshot or targets it could not load), and the caller wants the cause.
   */
  failure: Error | undefined;

  constructor(
    private readonly location: ListLocation,
    private readonly mode: FetchMode,
    private readonly cached: { roots: ReadonlyMap<number, Uint8Array>; timestamp?: Uint8Array },
    private readonly hub: Pick<HubClientOptions, 'endpoint' | 'token' | 'timeoutMs'> & { signal?: AbortSignal },
    private readonly scratch: string,
  ) {}

  async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    return this.remember(() => this.bytes(url, maxLength));
  }

  async downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    const file = await this.remember(() => this.target(url, maxLength));
    return handler(file);
  }

  private async remember<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof DownloadHTTPError)) this.failure = error as Error;
      throw error;
    }
  }

  private async bytes(url: string, maxLength: number): Promise<Buffer> {
    const name = this.nameOf(url);
    const root = /^(\d+)\.root\.json$/.exec(name);
    const kind = root ? 'root' : name === 'timestamp.json' ? 'timestamp' : /^\d+\.snapshot\.json$/.test(name) ? 'snapshot' : /^\d+\.targets\.json$/.test(name) ? 'targets' : undefined;
    if (!kind) throw new PublisherListError('LIST_REFUSED', `${this.location.name}: asked for ${name}, which a publisher list does not have (delegations and plain names are not used)`);
    let bytes: Uint8Array;
    if (root && this.cached.roots.has(Number(root[1]))) bytes = this.cached.roots.get(Number(root[1]))!;
    else if (this.mode === 'cache' && kind === 'root') throw new DownloadHTTPError(`${name} is not cached`, 404); // the newest root this client knows
    else if (this.mode === 'cache' && kind === 'timestamp' && this.cached.timestamp) bytes = this.cached.timestamp;
    else bytes = await this.get(url, name, Math.min(maxLength, MAX_BYTES[kind]));
    parseStrictJSON(bytes, (error) => new PublisherListError('LIST_REFUSED', `${this.location.name}: ${name}: ${error.message}`));
    if (root) {
      try {
        readRoot(bytes, `${this.location.name}: ${name}`);
      } catch (error) {
        if (!(error instanceof RootRefusedError)) throw error;
        throw new PublisherListError('LIST_REFUSED', error.message, { cause: error });
      }
      if (!this.cached.roots.has(Number(root[1]))) this.newRoots.set(Number(root[1]), bytes);
    }
    return Buffer.from(bytes);
  }

  private async target(url: string, maxLength: number): Promise<string> {
    const name = this.nameOf(url);
    if (!/^[0-9a-f]{64}\.kernel-publishers\.json$/.test(name)) throw new PublisherListError('LIST_REFUSED', `${this.location.name}: asked for the target ${name}, which a publisher list does not have`);
    const bytes = await this.get(url, name, Math.min(maxLength, MAX_BYTES.target));
    const file = join(this.scratch, 'download');
    await writeFile(file, bytes, { mode: 0o600 });
    return file;
  }

  /** The file's name under metadata/ or targets/; anything else is refused. */
  private nameOf(url: string): string {
    for (const base of [this.location.metadataBaseUrl, this.location.targetBaseUrl]) {
      if (url.startsWith(base) && !url.slice(base.length).includes('/')) return decodeURIComponent(url.slice(base.length));
    }
    throw new PublisherListError('LIST_REFUSED', `${this.location.name}: asked for ${url}, outside the list`);
  }

  private async get(url: string, name: string, maxBytes: number): Promise<Uint8Array> {
    if (this.mode === 'cache') throw new NotCachedError(`${name} is not in the cache`);
    this.requests += 1;
    if (this.location.local) {
      const read = await readBounded(fileURLToPath(url), maxBytes);
      if ('missing' in read) throw new DownloadHTTPError(`${name}: not found`, 404);
      if ('error' in read) throw new PublisherListError('LIST_REFUSED', `${this.location.name}: ${read.error}`);
      return read.bytes;
    }
    try {
      return await fetchBytes(url, { ...this.hub, maxBytes });
    } catch (error) {
      // tuf-js ends the root chain at a 404 or 403: the newest root is the one it has.
      if (error instanceof HubError && (error.status === 404 || error.status === 403)) throw new DownloadHTTPError(error.message, error.status);
      if (error instanceof HubError && error.code === 'HUB_REFUSED') throw new PublisherListError('LIST_REFUSED', `${this.location.name}: ${name}: ${error.message}`);
      throw error;
    }
  }
}
