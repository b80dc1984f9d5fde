import { Metadata, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Updater } from 'tuf-js';
import { BadVersionError, DownloadHTTPError, ExpiredMetadataError } from 'tuf-js/dist/error.js';
import { readBounded, readBoundedSync } from '../../fs/read-bounded.js';
import { userStateDir } from '../../fs/user-state.js';
import { StrictJSONError, parseStrictJSON } from '../../json/strict-json.js';
import { PUBLISHER_LIST_TARGET, PublisherListError, parsePublisherList, type PublisherList } from '../../trust/publisher-list.js';
import { USER_AGENT } from '../../version.js';
import { HubError, type HubClientOptions } from '../hub/hub-client.js';
import { offlineFromEnv } from '../hub/hub-env.js';
import { ClientState, ROLES, type ClientRecord, type Role, type RoleState, type VerifiedCache } from './client-state.js';
import { ListFetcher, MAX_BYTES, NotCachedError, type FetchMode } from './list-fetcher.js';
import { listLocation, type ListLocation } from './list-location.js';
import { readRoot } from './root-rules.js';
import { listFromRecord, targetFileName, verifiedCache, verifiedMetadataNames } from './verified-record.js';

export type { RoleState } from './client-state.js';

/** How often a list is refreshed from the network, at most: within it, the cache alone. */
export const DEFAULT_REFRESH_INTERVAL_MS = 60 * 60 * 1000;
/** How long after its last refresh a list may be used offline, at most (an option can only shorten it). */
export const MAX_OFFLINE_AGE_MS = 7 * 24 * 60 * 60 * 1000;

export interface OpenPublisherListOptions {
  /** `hf://[datasets/|models/]org/name[@revision]`, an `https://` base URL (`http://` on loopback), or a folder. */
  list: string;
  /**
   * The first root, pinned by the user, never fetched on trust: a root.json file's path, its
   * bytes, or `sha256:<hex>` of the repository's `1.root.json` (fetched once, then kept).
   */
  root: string | Uint8Array;
  /** From a kernels.lock: the pinned root must have this digest (`sha256:<hex>`). */
  rootDigest?: string;
  /** From a kernels.lock: the lowest targets version allowed, so that a fresh machine refuses older lists too. */
  minTargetsVersion?: number;
  /** No network at all: the cached list while its timestamp is unexpired, within `maxAgeMs` of the last refresh. Default: HF_HUB_OFFLINE. */
  offline?: boolean;
  /** Refresh from the network at most this often (default 1 hour); within it the cache is used with no request. */
  refreshIntervalMs?: number;
  /** How old the last refresh may be for an offline use (default and most: 7 days). */
  maxAgeMs?: number;
  /** The user's state folder (default KERNELSEAL_STATE_DIR, else $XDG_STATE_HOME/kernelseal, else ~/.local/state/kernelseal). Never a shared cache. */
  stateDir?: string;
  /** The Hub client's endpoint, token and deadline, for `hf://` lists. */
  hub?: Pick<HubClientOptions, 'endpoint' | 'token' | 'timeoutMs'>;
  signal?: AbortSignal;
  /** Told when a cached list is used because the network could not be, or when a damaged cache was replaced. */
  onWarning?: (message: string) => void;
}

/** A publisher list whose TUF metadata verified from the pinned root, with what the client knows of it. */
export interface VerifiedPublisherList extends PublisherList {
  /** The targets version that signed the list. */
  readonly version: number;
  /** The list's location, as given (a folder: its absolute path). */
  readonly location: string;
  /** The pinned root's digest, `sha256:<hex>` (what a kernels.lock records). */
  readonly rootDigest: string;
  /** When the list stops being usable: the earliest expiry of its four roles (the timestamp's, normally). */
  readonly expires: Date;
  readonly roles: Readonly<Record<Role, RoleState>>;
  /** When it was last refreshed from the network. */
  readonly lastRefresh: Date;
  /** Whether this call refreshed it from the network, or used the cache alone. */
  readonly from: 'network' | 'cache';
  /** HTTP requests this call made (0 from the cache). */
  readonly requests: number;
}

type TrustedSet = { root: Metadata<Root>; timestamp?: Metadata<Timestamp>; snapshot?: Metadata<Snapshot>; targets?: Metadata<Targets> };

const SHA256_PIN = /^sha256:([0-9a-f]{64})$/;

/**
 * Opens a trusted publisher list (docs/publishers.md, section 3): the TUF repository at `list`,
 * verified by tuf-js from the pinned `root` (rollback, freeze, mix-and-match, root rotation,
 * hashes and lengths), with this client's own checks around it: every root's keys counted once
 * and never a root key online; a floor of role versions and of the last refresh time kept in the
 * user's state, below which nothing is accepted even when cached files are damaged or missing;
 * the clock never earlier than the last refresh; at most one refresh per interval; offline, the
 * cache alone within its maximum age. A list that cannot be used throws PublisherListError,
 * never a fall back to another policy.
 */
export async function openPublisherList(options: OpenPublisherListOptions): Promise<VerifiedPublisherList> {
  const settings = checkOptions(options);
  const location = listLocation(options.list, options.hub);
  const offline = options.offline ?? offlineFromEnv();
  const stateDir = options.stateDir ?? userStateDir();
  let requests = 0;
  const pinned = await pinnedRoot(options.root, location, stateDir, offline, options, (n) => (requests += n));
  if (options.rootDigest !== undefined && options.rootDigest !== pinned.digest) {
    throw new PublisherListError('LIST_ROOT_MISMATCH', `the pinned root of ${location.name} is ${pinned.digest}, but the lock pins ${options.rootDigest}`);
  }
  const state = await ClientState.at(stateDir, pinned.digest.slice('sha256:'.length));
  return state.withLock(async () => {
    const record = await state.read(pinned.digest.slice('sha256:'.length));
    const now = Date.now();
    if (record && now < record.lastRefresh.getTime()) {
      throw new PublisherListError(
        'LIST_CLOCK',
        `the clock says ${new Date(now).toISOString()}, earlier than the last refresh of ${location.name} at ${record.lastRefresh.toISOString()}: a clock set back could revive expired metadata (if the clock was wrong then and is right now, delete ${state.dir} to start over)`,
      );
    }
    if (!pinned.kept) await state.cache(state.dir, 'pinned.root.json', pinned.bytes);
    const refresh = new Refresh(location, pinned, state, record, options);
    // The cache stands in only for the location it was read from; the floor holds for any.
    const cached = record?.location === location.name ? record : undefined;
    const age = cached ? now - cached.lastRefresh.getTime() : Infinity;
    // The cache alone: what its last verification recorded while that still holds, else verified in full.
    const fromCache = async (): Promise<Opened> => {
      const context = { location: location.name, pinnedVersion: pinned.version, minTargetsVersion: options.minTargetsVersion, now: Date.now() };
      const recorded = cached && (await listFromRecord(state, cached, context));
      return recorded ? opened(recorded.list, recorded.roles, cached.lastRefresh, 'cache', 0) : refresh.run('cache');
    };
    let result: Opened;
    if (offline) {
      if (!cached) throw new PublisherListError('LIST_UNAVAILABLE', `offline, and ${location.name} was never fetched with this root: run once online`);
      if (age > settings.maxAgeMs) throw new PublisherListError('LIST_EXPIRED', `offline, and ${location.name} was last refreshed at ${cached.lastRefresh.toISOString()}, longer ago than the ${describeMs(settings.maxAgeMs)} a list may be used offline`);
      result = await fromCache().catch(notCachedOffline(location));
    } else if (cached && age < settings.refreshIntervalMs && (options.minTargetsVersion ?? 0) <= cached.floor.targets) {
      result = await fromCache().catch((error: unknown) => {
        if (!(error instanceof NotCachedError) && !(error instanceof PublisherListError && error.code === 'LIST_EXPIRED')) {
          options.onWarning?.(`the cached ${location.name} cannot be used (${(error as Error).message}); refreshing it from the network`);
        }
        return refresh.run('network');
      });
    } else {
      result = await refresh.run('network').catch(async (error: unknown) => {
        const down = error instanceof PublisherListError && error.code === 'LIST_UNAVAILABLE';
        if (!down || !cached || age > settings.maxAgeMs) throw error;
        options.onWarning?.(`${error.message}; using the cached list, last refreshed at ${cached.lastRefresh.toISOString()}`);
        return fromCache().catch(notCachedOffline(location));
      });
    }
    requests += result.requests;
    return { ...result.list, location: location.name, rootDigest: pinned.digest, requests } as VerifiedPublisherList;
  }, options.signal);
}

interface Settings {
  refreshIntervalMs: number;
  maxAgeMs: number;
}

function checkOptions(options: OpenPublisherListOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new TypeError('openPublisherList needs { list, root }');
  if (options.root === undefined) throw new TypeError('a publisher list needs its pinned root (root: a root.json path, its bytes, or sha256:<hex>): it is never fetched on trust');
  const refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
  const maxAgeMs = options.maxAgeMs ?? MAX_OFFLINE_AGE_MS;
  if (!(refreshIntervalMs >= 0)) throw new TypeError('refreshIntervalMs must be 0 or more');
  if (!(maxAgeMs >= 0) || maxAgeMs > MAX_OFFLINE_AGE_MS) throw new TypeError(`maxAgeMs can only shorten the ${describeMs(MAX_OFFLINE_AGE_MS)} a list may be used offline`);
  if (options.rootDigest !== undefined && !SHA256_PIN.test(options.rootDigest)) throw new TypeError('rootDigest must be sha256:<64 hex digits>');
  if (options.minTargetsVersion !== undefined && !(Number.isSafeInteger(options.minTargetsVersion) && options.minTargetsVersion >= 1)) throw new TypeError('minTargetsVersion must be a whole number, 1 or more');
  return { refreshIntervalMs, maxAgeMs };
}

/** A cache-only refresh offline that lacks a file: the list cannot be used. */
function notCachedOffline(location: ListLocation) {
  return (error: unknown): never => {
    if (error instanceof NotCachedError) throw new PublisherListError('LIST_UNAVAILABLE', `offline, and the cached ${location.name} is incomplete (${error.message}): run once online`, { cause: error });
    throw error;
  };
}

interface Pinned {
  bytes: Uint8Array;
  /** `sha256:<hex>` */
  digest: string;
  version: number;
  /** The state already keeps these bytes as its pinned.root.json. */
  kept: boolean;
}

/**
 * The pinned root: read, or fetched once and compared with its pinned digest; then checked by
 * our rules and, unless the state keeps it already, its own signatures.
 */
async function pinnedRoot(root: string | Uint8Array, location: ListLocation, stateDir: string, offline: boolean, options: OpenPublisherListOptions, count: (n: number) => void): Promise<Pinned> {
  const { bytes, kept } = await pinnedBytes(root, location, stateDir, offline, options, count);
  let metadata: Metadata<Root>;
  try {
    metadata = readRoot(bytes, 'the pinned root');
    // A kept root's signatures are not checked again: openPublisherList keeps it only after this
    // check passed on these very bytes, in the folder their digest names, which ClientState.at
    // then requires to be this user's alone. And every full verification checks them once more
    // (tuf-js's loadTrustedRoot), so the cache answers without them only from the record of one
    // (verified-record.ts). This spares a warm open one signature check.
    if (!kept) metadata.verifyDelegate('root', metadata);
  } catch (error) {
    // The root's fault: readRoot's verdict, or tuf-js's on its signatures. A bug propagates.
    if (error instanceof TypeError || error instanceof ReferenceError) throw error;
    throw new PublisherListError('LIST_REFUSED', `${(error as Error).message}`, { cause: error });
  }
  return { bytes, digest: sha256(bytes), version: metadata.signed.version, kept };
}

/** The pinned root's bytes, as given or fetched, and whether the state keeps them already (its pinned.root.json). */
async function pinnedBytes(root: string | Uint8Array, location: ListLocation, stateDir: string, offline: boolean, options: OpenPublisherListOptions, count: (n: number) => void): Promise<{ bytes: Uint8Array; kept: boolean }> {
  const keptRoot = (hex: string) => readBoundedSync(join(stateDir, 'publishers', hex, 'pinned.root.json'), MAX_BYTES.root);
  const pin = typeof root === 'string' ? SHA256_PIN.exec(root) : null;
  if (pin) {
    const kept = keptRoot(pin[1]!);
    if ('bytes' in kept && sha256(kept.bytes) === root) return { bytes: kept.bytes, kept: true };
    if (offline) throw new PublisherListError('LIST_UNAVAILABLE', `offline, and the root ${root} of ${location.name} was never fetched: run once online`);
    const fetcher = new ListFetcher(location, 'network', { roots: new Map() }, { ...options.hub, signal: options.signal }, stateDir);
    let bytes: Uint8Array;
    try {
      bytes = await fetcher.downloadBytes(`${location.metadataBaseUrl}1.root.json`, MAX_BYTES.root);
    } catch (error) {
      throw asListError(error, fetcher, location);
    } finally {
      count(fetcher.requests);
    }
    if (sha256(bytes) !== root) throw new PublisherListError('LIST_ROOT_MISMATCH', `${location.name}: 1.root.json has the digest ${sha256(bytes)}, not the pinned ${root}`);
    return { bytes, kept: false };
  }
  let bytes: Uint8Array;
  if (root instanceof Uint8Array) bytes = root;
  else if (typeof root === 'string') {
    const read = await readBounded(root, MAX_BYTES.root);
    if (!('bytes' in read)) throw new PublisherListError('LIST_UNAVAILABLE', `the pinned root ${root}: ${'missing' in read ? 'not found' : read.error}`);
    bytes = read.bytes;
  } else throw new TypeError('root must be a root.json path, its bytes, or sha256:<hex>');
  const kept = keptRoot(sha256(bytes).slice('sha256:'.length));
  return { bytes, kept: 'bytes' in kept && Buffer.from(kept.bytes).equals(bytes) };
}

interface Opened {
  list: Omit<VerifiedPublisherList, 'location' | 'rootDigest' | 'requests'>;
  requests: number;
}

const CACHED_ROLES = ['timestamp', 'snapshot', 'targets'] as const;

/** A list opened, with what the client knows of it; it stops being usable when its first role expires. */
function opened(list: PublisherList, roles: Record<Role, RoleState>, lastRefresh: Date, from: FetchMode, requests: number): Opened {
  const expires = new Date(Math.min(...ROLES.map((role) => roles[role].expires.getTime())));
  return { list: { ...list, version: roles.targets.version, expires, roles, lastRefresh, from }, requests };
}

/** One verification of the list with tuf-js, from the network or the cache, and what it leaves in the state. */
class Refresh {
  constructor(
    private readonly location: ListLocation,
    private readonly pinned: Pinned,
    private readonly state: ClientState,
    private readonly record: ClientRecord | undefined,
    private readonly options: OpenPublisherListOptions,
  ) {}

  async run(mode: FetchMode): Promise<Opened> {
    // tuf-js works in a folder of its own: it writes what it accepted before this client's
    // checks (the floor) have run; only what passes them reaches the state.
    const work = await mkdtemp(join(this.state.dir, 'work-'));
    try {
      return await this.verify(mode, work);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private async verify(mode: FetchMode, work: string): Promise<Opened> {
    const { state, location } = this;
    await writeFile(join(work, 'root.json'), this.pinned.bytes);
    // The cached roles, where they are strict JSON; tuf-js treats a damaged one as absent and
    // fetches it again, and the floor below keeps that from lowering any version.
    for (const role of CACHED_ROLES) {
      const bytes = await state.cached(state.metadataDir, `${role}.json`, MAX_BYTES[role]);
      if (bytes && isStrictJSON(bytes)) await writeFile(join(work, `${role}.json`), bytes);
    }
    const roots = new Map<number, Uint8Array>();
    if (mode === 'cache') {
      this.refuseExpiredCache(work);
      for (let version = this.pinned.version + 1; ; version++) {
        const bytes = await state.cached(state.metadataDir, `${version}.root.json`, MAX_BYTES.root);
        if (!bytes) break;
        roots.set(version, bytes);
      }
    }
    const timestamp = mode === 'cache' ? await state.cached(state.metadataDir, 'timestamp.json', MAX_BYTES.timestamp) : undefined;
    const fetcher = new ListFetcher(location, mode, { roots, ...(timestamp ? { timestamp } : {}) }, { ...this.options.hub, signal: this.options.signal }, work);
    const config = {
      maxRootRotations: 64,
      rootMaxLength: MAX_BYTES.root,
      timestampMaxLength: MAX_BYTES.timestamp,
      snapshotMaxLength: MAX_BYTES.snapshot,
      targetsMaxLength: MAX_BYTES.targets,
      prefixTargetsWithHash: true,
      userAgent: USER_AGENT,
    };
    let updater: Updater;
    let trusted: Required<TrustedSet>;
    let info;
    try {
      // Made inside: it checks the pinned root's own signatures, which pinnedRoot skips for a kept root.
      updater = new Updater({ metadataDir: work, metadataBaseUrl: location.metadataBaseUrl, targetDir: work, targetBaseUrl: location.targetBaseUrl, fetcher, config });
      await updater.refresh();
      trusted = trustedSetOf(updater);
      if (trusted.targets.signed.delegations) throw new PublisherListError('LIST_REFUSED', `${location.name}: its targets delegate, which a publisher list never does`);
      this.checkFloor(trusted);
      info = await updater.getTargetInfo(PUBLISHER_LIST_TARGET);
    } catch (error) {
      throw asListError(error, fetcher, location);
    }
    const version = trusted.targets.signed.version;
    if (!info) throw new PublisherListError('LIST_INVALID', `${location.name} (version ${version}) has no ${PUBLISHER_LIST_TARGET}`);
    if (info.length > MAX_BYTES.target) throw new PublisherListError('LIST_INVALID', `${location.name} (version ${version}): ${PUBLISHER_LIST_TARGET} is ${info.length} bytes, more than ${MAX_BYTES.target}`);
    const sha = info.hashes.sha256;
    if (!sha || !/^[0-9a-f]{64}$/.test(sha)) throw new PublisherListError('LIST_REFUSED', `${location.name} (version ${version}): ${PUBLISHER_LIST_TARGET} has no SHA-256`);
    const targetName = targetFileName(sha);
    let path: string | undefined;
    try {
      path = (await updater.findCachedTarget(info, join(state.targetsDir, targetName))) ?? (await updater.downloadTarget(info, join(work, targetName)));
    } catch (error) {
      throw asListError(error, fetcher, location);
    }
    const read = await readBounded(path, MAX_BYTES.target);
    if (!('bytes' in read)) throw new PublisherListError('LIST_UNAVAILABLE', `${location.name}: cannot read ${path}`);
    const list = parsePublisherList(read.bytes, { source: location.name, version });
    const roles = Object.fromEntries(ROLES.map((role) => [role, { version: trusted[role].signed.version, expires: new Date(trusted[role].signed.expires) }])) as Record<Role, RoleState>;
    const files = await this.verifiedFiles(work, new Map([...roots, ...fetcher.newRoots]), roles.root.version);
    const verified = verifiedCache(roles, files, read.bytes);
    let lastRefresh = this.record?.lastRefresh ?? new Date(0);
    if (mode === 'network') {
      lastRefresh = new Date();
      await this.commit(files, targetName, read.bytes, roles, lastRefresh, verified);
    } else if (this.record) {
      // Recorded, so that the next open within the interval need not verify these files again.
      await state.write({ ...this.record, verified });
    }
    return opened(list, roles, lastRefresh, mode, fetcher.requests);
  }

  /**
   * The metadata files tuf-js just verified, by name: the roots it walked from the pinned one
   * (from the cache or newly fetched), and the roles it kept in its work folder.
   */
  private async verifiedFiles(work: string, roots: ReadonlyMap<number, Uint8Array>, rootVersion: number): Promise<Map<string, Uint8Array>> {
    const files = new Map<string, Uint8Array>();
    for (const name of verifiedMetadataNames(this.pinned.version, rootVersion)) {
      const root = /^(\d+)\.root\.json$/.exec(name);
      if (root) {
        const bytes = roots.get(Number(root[1]));
        if (bytes) files.set(name, bytes);
        continue;
      }
      const read = await readBounded(join(work, name), MAX_BYTES[name.slice(0, -'.json'.length) as (typeof CACHED_ROLES)[number]]);
      if ('bytes' in read) files.set(name, read.bytes);
    }
    return files;
  }

  /**
   * From the cache, an expired role fails as expired (tuf-js would only find the newer one
   * missing). Read unverified, this can only refuse: tuf-js verifies what is used.
   */
  private refuseExpiredCache(work: string): void {
    for (const role of CACHED_ROLES) {
      let expires: unknown;
      try {
        expires = (parseStrictJSON(readFileSync(join(work, `${role}.json`))) as { signed?: { expires?: unknown } } | null)?.signed?.expires;
      } catch (error) {
        // Missing (verify copies only what is strict JSON) or damaged: tuf-js finds it missing.
        // Anything else (a file that cannot be read) is no reason to skip the check.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof StrictJSONError) continue;
        throw error;
      }
      if (typeof expires === 'string' && !(Date.parse(expires) > Date.now())) {
        throw new PublisherListError('LIST_EXPIRED', `the cached ${this.location.name}: ${role} expired at ${expires}: the list must be refreshed online (a list kept from updating is refused)`);
      }
    }
  }

  /**
   * The client's floor: no role below the highest version this client (or a lock) accepted
   * before, whatever its cache holds now.
   */
  private checkFloor(trusted: Required<TrustedSet>): void {
    for (const role of ROLES) {
      const floor = this.record?.floor[role] ?? 0;
      const version = trusted[role].signed.version;
      if (version < floor) {
        throw new PublisherListError('LIST_ROLLBACK', `${this.location.name}: ${role} version ${version} is older than version ${floor}, which this client accepted before: a rolled-back list is refused (a stale mirror, or an attack)`);
      }
    }
    const min = this.options.minTargetsVersion;
    if (min !== undefined && trusted.targets.signed.version < min) {
      throw new PublisherListError('LIST_ROLLBACK', `${this.location.name}: targets version ${trusted.targets.signed.version} is older than version ${min}, the lowest the lock allows`);
    }
  }

  /** What a network refresh verified, into the state: files first, then the record that names them. */
  private async commit(files: ReadonlyMap<string, Uint8Array>, targetName: string, target: Uint8Array, roles: Record<Role, RoleState>, lastRefresh: Date, verified: VerifiedCache): Promise<void> {
    const { state } = this;
    for (const [name, bytes] of files) await state.cache(state.metadataDir, name, bytes);
    await state.cache(state.targetsDir, targetName, target);
    for (const name of await readdir(state.targetsDir)) if (name !== targetName) await rm(join(state.targetsDir, name), { force: true });
    const floor = Object.fromEntries(ROLES.map((role) => [role, roles[role].version])) as Record<Role, number>;
    await state.write({ root: this.pinned.digest.slice('sha256:'.length), floor, lastRefresh, location: this.location.name, verified });
  }
}

/** What tuf-js verified: its trusted set, a private field read here only (tuf-js is pinned exactly). */
function trustedSetOf(updater: Updater): Required<TrustedSet> {
  const set = (updater as unknown as { trustedSet?: TrustedSet }).trustedSet;
  if (!set?.root || !set.timestamp || !set.snapshot || !set.targets) throw new Error('tuf-js refreshed without a full trusted set: the pinned tuf-js version changed shape');
  return set as Required<TrustedSet>;
}

/**
 * A failure of tuf-js or of the fetcher as a PublisherListError with a code: the fetcher's own
 * error when it raised one (tuf-js keeps only the text of some), expiry (freeze), an older
 * version (rollback), the network, or anything else the metadata failed.
 */
function asListError(error: unknown, fetcher: ListFetcher, location: ListLocation): Error {
  const cause = fetcher.failure ?? error;
  if (cause instanceof PublisherListError || cause instanceof NotCachedError) return cause;
  if (cause instanceof HubError) return new PublisherListError('LIST_UNAVAILABLE', `${location.name}: ${cause.message}`, { cause });
  if (cause instanceof DownloadHTTPError) return new PublisherListError('LIST_UNAVAILABLE', `${location.name}: ${cause.message} (is it a publisher list?)`, { cause });
  if ((cause as Error)?.name === 'AbortError' || (cause as Error)?.name === 'TimeoutError') return cause as Error;
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof ExpiredMetadataError || /\.json is expired\b/.test(message)) {
    return new PublisherListError('LIST_EXPIRED', `${location.name}: ${message}: the list was not re-signed in time, or its server withholds the newer one`, { cause: error });
  }
  // tuf-js wraps what fails loading a snapshot or targets in an error of its own that keeps only the text.
  if ((error instanceof BadVersionError && /less than/.test(message)) || /\bis less than current version\b/.test(message)) {
    return new PublisherListError('LIST_ROLLBACK', `${location.name}: ${message}: a rolled-back list is refused`, { cause: error });
  }
  return new PublisherListError('LIST_REFUSED', `${location.name}: its TUF metadata is refused: ${message}`, { cause: error });
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function isStrictJSON(bytes: Uint8Array): boolean {
  try {
    parseStrictJSON(bytes);
    return true;
  } catch (error) {
    if (!(error instanceof StrictJSONError)) throw error;
    return false;
  }
}

function describeMs(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000} days` : ms % 3_600_000 === 0 ? `${ms / 3_600_000} hours` : `${ms / 1000} s`;
}
