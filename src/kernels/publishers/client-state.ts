import { lstatSync, mkdirSync, readdirSync, type Stats } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import { withFileLock } from '../../fs/file-lock.js';
import { privateDirProblem } from '../../fs/user-state.js';
import { readBoundedSync } from '../../fs/read-bounded.js';
import { isJSONObject } from '../../json/json-object.js';
import { strictJSONObjectOf } from '../../json/strict-json.js';
import { PublisherListError } from '../../trust/publisher-list.js';

// A publisher list client's own state (docs/publishers.md, section 3): per pinned root, in the
// user's state folder (never a shared cache), under an exclusive lock, written atomically. It
// holds the TUF metadata last verified and the client's floor: the highest version of each
// role it has accepted and the time of its last refresh, which a damaged or deleted metadata
// file cannot lower.

/** The TUF roles whose versions the floor keeps. */
export const ROLES = ['root', 'timestamp', 'snapshot', 'targets'] as const;
export type Role = (typeof ROLES)[number];

/** One TUF role as verified: its version and when it expires. */
export interface RoleState {
  version: number;
  expires: Date;
}

/**
 * What the last full verification of the cache established (docs/publishers.md, section 3): each
 * role as verified, and the SHA-256 of every cached file it read. With the same files, it stands
 * in for verifying them again (verified-record.ts). Optional, and only ever ignored when it is
 * missing or malformed: a record an older kernelseal wrote, which lacks it, costs one full
 * verification, and the older kernelseal reads past it (the schema stays v1).
 */
export interface VerifiedCache {
  /** The kernelseal version that verified: another may check more, so verifies again. */
  by: string;
  roles: Record<Role, RoleState>;
  /** SHA-256 (hex) of each metadata file verified, by its name under metadata/. */
  metadata: Record<string, string>;
  /** The list file under targets/: its SHA-256 (hex), which names it, and its length. */
  target: { sha256: string; length: number };
}

/** What the client remembers between runs. */
export interface ClientRecord {
  /** The SHA-256 (hex) of the pinned root: the folder's name. */
  root: string;
  /** The highest version of each role this client has accepted. */
  floor: Record<Role, number>;
  /** When the last full refresh from the network succeeded. */
  lastRefresh: Date;
  /** Where that refresh read the list: the cache stands in for this location only. */
  location: string;
  verified?: VerifiedCache;
}

const SCHEMA = 'kernelseal/publisher-state/v1';
/** Larger than any real record: a few hundred bytes. */
const MAX_RECORD_BYTES = 64 * 1024;
/** How long a run waits for another holding the lock before it gives up. */
const LOCK_WAIT_MS = 120_000;

/** The folder of one pinned root's state, made private to this user if missing. */
export class ClientState {
  readonly dir: string;
  readonly metadataDir: string;
  readonly targetsDir: string;
  private readonly recordPath: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.metadataDir = join(dir, 'metadata');
    this.targetsDir = join(dir, 'targets');
    this.recordPath = join(dir, 'state.json');
  }

  /**
   * The state of the root whose SHA-256 is `rootDigest` under `stateDir`, its folders made
   * (mode 0700). A folder another user owns or may write to is refused: whoever can write it
   * can lower the floor.
   */
  static async at(stateDir: string, rootDigest: string): Promise<ClientState> {
    // The state is read and checked synchronously (its folders here, its record and cached files
    // below): a few small files of the user's own, asked on every warm open, where a round trip
    // through libuv's pool for each call cost more than the open's own work (README, Benchmarks).
    const dir = join(stateDir, 'publishers', rootDigest);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    checkPrivate(dir, lstatSync(dir));
    const state = new ClientState(dir);
    for (const sub of [state.metadataDir, state.targetsDir]) {
      try {
        mkdirSync(sub, { mode: 0o700 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      checkPrivate(sub, lstatSync(sub));
    }
    return state;
  }

  /**
   * The record, or undefined for a fresh state (never refreshed: the cached files, if any, are
   * a first refresh that did not finish and are dropped). A record that cannot be read is
   * refused: its floor is unknown, and no floor is never assumed.
   */
  async read(rootDigest: string): Promise<ClientRecord | undefined> {
    // Under the lock, a work folder is what a run that died left behind.
    for (const name of readdirSync(this.dir)) if (name.startsWith('work-')) await rm(join(this.dir, name), { recursive: true, force: true });
    const read = strictJSONObjectOf(readBoundedSync(this.recordPath, MAX_RECORD_BYTES));
    if ('missing' in read) {
      await this.clearCache();
      return undefined;
    }
    const damaged = (why: string): never => {
      throw new PublisherListError('LIST_STATE_INVALID', `the publisher list state ${this.recordPath} is damaged (${why}); delete ${this.dir} to start over: the next refresh then trusts the newest list the pinned root leads to`);
    };
    if ('error' in read) return damaged(read.error);
    const json = read.record;
    if (json.schema !== SCHEMA || !isJSONObject(json.floor)) return damaged('not a state record');
    const floor = json.floor;
    if (json.root !== rootDigest) return damaged(`it belongs to the root ${String(json.root)}`);
    for (const role of ROLES) if (!Number.isSafeInteger(floor[role]) || (floor[role] as number) < 0) damaged(`no version for ${role}`);
    const lastRefresh = new Date(typeof json.lastRefresh === 'string' ? json.lastRefresh : NaN);
    if (Number.isNaN(lastRefresh.getTime())) damaged('no time of the last refresh');
    if (typeof json.location !== 'string') damaged('no location');
    const verified = readVerified(json.verified);
    return { root: rootDigest, floor: floor as Record<Role, number>, lastRefresh, location: json.location as string, ...(verified ? { verified } : {}) };
  }

  /** Writes the record atomically, readable by this user only. */
  async write(record: ClientRecord): Promise<void> {
    const json = { schema: SCHEMA, root: record.root, location: record.location, floor: record.floor, lastRefresh: record.lastRefresh.toISOString(), verified: record.verified };
    await writeFileAtomic(this.recordPath, `${JSON.stringify(json, null, 2)}\n`, 0o600);
  }

  /** Writes one cached file (metadata or target) atomically. */
  async cache(dir: string, name: string, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(join(dir, name), bytes, 0o600);
  }

  /** A cached file's bytes, or undefined when missing or unreadable (TUF verifies what it is given). */
  async cached(dir: string, name: string, limit: number): Promise<Uint8Array | undefined> {
    const read = readBoundedSync(join(dir, name), limit);
    return 'bytes' in read ? read.bytes : undefined;
  }

  private async clearCache(): Promise<void> {
    for (const dir of [this.metadataDir, this.targetsDir]) {
      for (const name of await readdir(dir)) await rm(join(dir, name), { force: true, recursive: true });
    }
  }

  /**
   * Runs `work` holding the state's exclusive lock: one run refreshes and writes at a time, the
   * others wait, then find the fresh state. The lock of every kernelseal (src/fs/file-lock.ts).
   */
  async withLock<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const path = join(this.dir, 'lock');
    const error = () => new PublisherListError('LIST_UNAVAILABLE', `another kernelseal has held ${path} for over ${LOCK_WAIT_MS / 1000} s`);
    return withFileLock(path, () => work(), { signal, timeout: { ms: LOCK_WAIT_MS, error } });
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The record's verified facts, or undefined unless every one is there and well formed. */
function readVerified(json: unknown): VerifiedCache | undefined {
  if (!isJSONObject(json) || typeof json.by !== 'string' || !isJSONObject(json.roles) || !isJSONObject(json.metadata) || !isJSONObject(json.target)) return undefined;
  const roles = {} as Record<Role, RoleState>;
  for (const role of ROLES) {
    const state = json.roles[role];
    if (!isJSONObject(state) || !Number.isSafeInteger(state.version) || typeof state.expires !== 'string') return undefined;
    roles[role] = { version: state.version as number, expires: new Date(state.expires) };
    if (Number.isNaN(roles[role].expires.getTime())) return undefined;
  }
  if (!Object.values(json.metadata).every((digest) => typeof digest === 'string' && HEX64.test(digest))) return undefined;
  const { sha256, length } = json.target;
  if (typeof sha256 !== 'string' || !HEX64.test(sha256) || !Number.isSafeInteger(length)) return undefined;
  return { by: json.by, roles, metadata: json.metadata as Record<string, string>, target: { sha256, length: length as number } };
}

/** A folder of the state: a real directory, ours, that no one else may write. */
function checkPrivate(dir: string, info: Stats): void {
  const problem = privateDirProblem(info);
  if (problem) throw new PublisherListError('LIST_STATE_INVALID', `the publisher list state ${dir} ${problem}`);
}
