import { MetaFile, Metadata, MetadataKind, Root, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import { createHash } from 'node:crypto';
import { mkdir, readdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import { readBounded } from '../../fs/read-bounded.js';
import { isJSONObject } from '../../json/json-object.js';
import { parseStrictJSON } from '../../json/strict-json.js';
import { PUBLISHER_LIST_SCHEMA, PUBLISHER_LIST_TARGET, parsePublisherList } from '../../trust/publisher-list.js';
import { KeyRing, signMetadata, type SigningKey } from './list-keys.js';
import { MAX_BYTES } from './list-fetcher.js';
import { ONLINE_ROLES, readRoot, rootProblem } from './root-rules.js';

// A publisher list's TUF repository as its maintainers keep it (docs/publishers.md, section 1):
// the folder that is uploaded, one Hub commit per change, holding
//   metadata/<v>.root.json (every version, never deleted), metadata/timestamp.json,
//   metadata/<v>.snapshot.json, metadata/<v>.targets.json, targets/<sha256>.kernel-publishers.json,
//   kernel-publishers.json: the list as edited (`publishers add`...), published by `sign`,
//   publishers-signing.json: how long each role's signature lasts.
// Old versions stay: a client mid-refresh still finds the snapshot and targets its timestamp names.

export type RoleName = 'root' | 'targets' | 'snapshot' | 'timestamp';
export const ROLE_NAMES: readonly RoleName[] = ['root', 'targets', 'snapshot', 'timestamp'];

/** The list as edited, published by the next `sign`. */
export const DRAFT_FILE = PUBLISHER_LIST_TARGET;
/** How long each role's signature lasts: the maintainers' choice, read by `sign` and `check`. */
export const SIGNING_FILE = 'publishers-signing.json';
const SIGNING_SCHEMA = 'kernelseal/publishers-signing/v1';

const DAY = 24 * 60 * 60 * 1000;
/** Default signature lifetimes: the root offline and long, the timestamp re-signed by CI every few hours. */
export const DEFAULT_PERIODS: Readonly<Record<RoleName, number>> = { root: 365 * DAY, targets: 90 * DAY, snapshot: 7 * DAY, timestamp: DAY };

/** "365d", "12h", "30m": a signature lifetime in milliseconds, or undefined when it is none. */
export function parsePeriod(text: string): number | undefined {
  const match = /^(\d+)(d|h|m)$/.exec(text.trim());
  const ms = match ? Number(match[1]) * { d: DAY, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm'] : NaN;
  return ms > 0 && ms <= 10 * 365 * DAY ? ms : undefined;
}

export function formatPeriod(ms: number): string {
  return ms % DAY === 0 ? `${ms / DAY}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${Math.round(ms / 60_000)}m`;
}

/** A maintainer's request that cannot be done: the folder, the keys or the list say why. */
export class ListRepositoryError extends Error {
  override readonly name = 'ListRepositoryError';
}

export interface InitOptions {
  /** How many root keys, and how many of them must sign a root. */
  rootKeys: number;
  rootThreshold: number;
  periods: Record<RoleName, number>;
}

/** What `sign` did: the roles signed, each with its new version and expiry. */
export type Signed = Array<{ role: RoleName; version: number; expires: string }>;

interface Current {
  root: Metadata<Root>;
  targets?: Metadata<Targets>;
  snapshot?: Metadata<Snapshot>;
  timestamp?: Metadata<Timestamp>;
  /** The list the current targets sign. */
  signedList?: Uint8Array;
}

/** A list's repository folder, read as it stands. */
export class ListRepository {
  private constructor(
    readonly dir: string,
    private current: Current,
    readonly periods: Record<RoleName, number>,
  ) {}

  /**
   * Makes a new repository in `dir` (absent or empty): root keys, one targets key and one
   * online key for snapshot and timestamp, written to `keysDir`, which must lie outside `dir`;
   * a root (version 1) and an empty list, signed.
   */
  static async init(dir: string, keysDir: string, options: InitOptions): Promise<{ repository: ListRepository; keys: SigningKey[]; signed: Signed }> {
    await mkdir(dir, { recursive: true });
    await refuseKeysInside(dir, keysDir);
    const present = (await readdir(dir)).filter((name) => !name.startsWith('.'));
    if (present.length > 0) throw new ListRepositoryError(`${dir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''}): init makes a new list in an empty folder`);
    if (!(Number.isInteger(options.rootKeys) && options.rootKeys >= 1 && options.rootKeys <= 16)) throw new ListRepositoryError('the number of root keys must be 1 to 16');
    if (!(Number.isInteger(options.rootThreshold) && options.rootThreshold >= 1 && options.rootThreshold <= options.rootKeys)) {
      throw new ListRepositoryError(`the root threshold must be 1 to the number of root keys (${options.rootKeys})`);
    }
    const ring = await KeyRing.read(keysDir);
    const keys: SigningKey[] = [];
    for (let i = 0; i < options.rootKeys; i++) keys.push(await ring.generate('root'));
    const targets = await ring.generate('targets');
    const online = await ring.generate('online');
    const root = new Root({ version: 1, specVersion: '1.0.31', expires: expiry(options.periods.root), consistentSnapshot: true });
    for (const key of keys) root.addKey(key.key, 'root');
    root.addKey(targets.key, 'targets');
    for (const role of ONLINE_ROLES) root.addKey(online.key, role);
    (root.roles.root as { threshold: number }).threshold = options.rootThreshold;
    const metadata = new Metadata(root);
    for (const key of keys) signMetadata(metadata, key);
    await mkdir(join(dir, 'metadata'), { recursive: true });
    await mkdir(join(dir, 'targets'), { recursive: true });
    await writeFileAtomic(join(dir, SIGNING_FILE), `${JSON.stringify({ schema: SIGNING_SCHEMA, expires: Object.fromEntries(ROLE_NAMES.map((role) => [role, formatPeriod(options.periods[role])])) }, null, 2)}\n`);
    await writeFileAtomic(join(dir, DRAFT_FILE), draftText({ schema: PUBLISHER_LIST_SCHEMA, entries: [] }));
    await writeFileAtomic(join(dir, 'metadata', '1.root.json'), metadataText(metadata));
    const repository = await ListRepository.read(dir);
    const signed = await repository.sign(ring);
    return { repository, keys: [...keys, targets, online], signed };
  }

  /** Reads the folder: the newest root, the timestamp and what it names, the draft, the signing periods. */
  static async read(dir: string): Promise<ListRepository> {
    const names = await readdir(join(dir, 'metadata')).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new ListRepositoryError(`${dir} holds no metadata/: not a publisher list repository (make one with kernelseal publishers init)`);
      throw error;
    });
    const rootVersions = names.map((name) => /^(\d+)\.root\.json$/.exec(name)?.[1]).filter((v): v is string => v !== undefined).map(Number).sort((a, b) => a - b);
    if (rootVersions.length === 0) throw new ListRepositoryError(`${dir}/metadata holds no root`);
    const newest = rootVersions.at(-1)!;
    const root = readRoot(await readFile(join(dir, 'metadata', `${newest}.root.json`), MAX_BYTES.root), `${dir}/metadata/${newest}.root.json`);
    const current: Current = { root };
    const timestamp = await readOptional(join(dir, 'metadata', 'timestamp.json'), MAX_BYTES.timestamp);
    if (timestamp) {
      current.timestamp = Metadata.fromJSON(MetadataKind.Timestamp, parseStrictJSON(timestamp) as never);
      current.snapshot = Metadata.fromJSON(MetadataKind.Snapshot, parseStrictJSON(await readFile(join(dir, 'metadata', `${current.timestamp.signed.snapshotMeta.version}.snapshot.json`), MAX_BYTES.snapshot)) as never);
      const targetsVersion = current.snapshot.signed.meta['targets.json']?.version;
      if (targetsVersion === undefined) throw new ListRepositoryError(`${dir}: the snapshot names no targets`);
      current.targets = Metadata.fromJSON(MetadataKind.Targets, parseStrictJSON(await readFile(join(dir, 'metadata', `${targetsVersion}.targets.json`), MAX_BYTES.targets)) as never);
      const info = current.targets.signed.targets[PUBLISHER_LIST_TARGET];
      if (info?.hashes.sha256) current.signedList = await readFile(join(dir, 'targets', `${info.hashes.sha256}.${PUBLISHER_LIST_TARGET}`), MAX_BYTES.target);
    }
    return new ListRepository(dir, current, await readPeriods(dir));
  }

  /** The root as it stands. */
  get root(): Metadata<Root> {
    return this.current.root;
  }

  /** Each role as it stands: its version and expiry (absent before the first `sign`). */
  roles(): Partial<Record<RoleName, { version: number; expires: string }>> {
    const { root, targets, snapshot, timestamp } = this.current;
    return Object.fromEntries(
      Object.entries({ root, targets, snapshot, timestamp })
        .filter(([, md]) => md !== undefined)
        .map(([role, md]) => [role, { version: md!.signed.version, expires: md!.signed.expires }]),
    );
  }

  /** The draft list's bytes (what the next `sign` publishes). */
  async draft(): Promise<Uint8Array> {
    return readFile(join(this.dir, DRAFT_FILE), MAX_BYTES.target);
  }

  /** Whether the draft differs from the list the current targets sign. */
  async unsigned(): Promise<boolean> {
    const signed = this.current.signedList;
    return !signed || !Buffer.from(signed).equals(await this.draft());
  }

  /**
   * Edits the draft list (its JSON) with `edit` and writes it back once the result is a valid
   * list; nothing is written otherwise.
   */
  async editDraft(edit: (list: { schema: string; entries: Array<Record<string, unknown>> }) => void): Promise<void> {
    const list = parseStrictJSON(await this.draft()) as { schema: string; entries: Array<Record<string, unknown>> };
    edit(list);
    const text = draftText(list);
    parsePublisherList(text, { source: join(this.dir, DRAFT_FILE) });
    await writeFileAtomic(join(this.dir, DRAFT_FILE), text);
  }

  /**
   * Signs what needs it, with the keys `ring` holds: targets when the draft changed, and every
   * role whose signature expires within half its lifetime, or no longer holds under the root (a
   * key rotated), or that `force` names; then snapshot and timestamp above any role signed.
   * The root is signed only when forced (`--role root`): its keys stay offline. Everything is
   * signed before anything is written: a role whose keys the ring lacks leaves the folder as it was.
   */
  async sign(ring: KeyRing, force: readonly RoleName[] = []): Promise<Signed> {
    const stage = this.stage();
    if (force.includes('root')) this.signRoot(stage, ring, this.nextRoot());
    await this.signRoles(stage, ring, force);
    return this.commit(stage);
  }

  /**
   * Replaces one key (`keyId`) with a new one in every role that lists it: a new root, signed
   * by the old root's threshold and the new root's, then every role whose key changed signed
   * again (and those above it). The new key is written to the ring's folder first; the old
   * key's file moves to its `retired/` once the folder holds the new root.
   */
  async rotateKey(ring: KeyRing, keyId: string): Promise<{ key: SigningKey; roles: RoleName[]; signed: Signed; retired?: string }> {
    const root = this.current.root.signed;
    const roles = ROLE_NAMES.filter((role) => root.roles[role]?.keyIDs.includes(keyId));
    if (roles.length === 0) throw new ListRepositoryError(`no role lists the key ${keyId}`);
    const key = await ring.generate(roles.includes('root') ? 'root' : roles.includes('targets') ? 'targets' : 'online');
    const next = this.nextRoot();
    delete next.keys[keyId];
    next.keys[key.id] = key.key;
    for (const role of roles) {
      const ids = next.roles[role]!.keyIDs;
      ids.splice(ids.indexOf(keyId), 1, key.id);
    }
    const stage = this.stage();
    this.signRoot(stage, ring, next);
    await this.signRoles(stage, ring, roles.filter((role) => role !== 'root'));
    const signed = await this.commit(stage);
    const retired = await ring.retire(keyId);
    return { key, roles, signed, ...(retired ? { retired } : {}) };
  }

  /** A copy of the current root, one version up, its expiry renewed. */
  private nextRoot(): Root {
    const json = this.current.root.signed.toJSON();
    return Root.fromJSON({ ...json, version: this.current.root.signed.version + 1, expires: expiry(this.periods.root) });
  }

  /** What is being signed: the roles as they will stand, and the files to write, in order. */
  private stage(): Stage {
    return { current: { ...this.current }, files: new Map(), signed: [] };
  }

  /** Writes what `stage` signed, in order (the timestamp last), and makes it current. */
  private async commit(stage: Stage): Promise<Signed> {
    for (const [name, bytes] of stage.files) await writeFileAtomic(join(this.dir, name), bytes);
    this.current = stage.current;
    return stage.signed;
  }

  /** Targets, snapshot and timestamp, each when due (see sign), into `stage`. */
  private async signRoles(stage: Stage, ring: KeyRing, force: readonly RoleName[]): Promise<void> {
    const now = Date.now();
    const due = (role: Exclude<RoleName, 'root'>) => {
      const md = stage.current[role];
      if (!md || force.includes(role)) return true;
      if (Date.parse(md.signed.expires) - now < this.periods[role] / 2) return true;
      try {
        stage.current.root.verifyDelegate(role, md);
        return false;
      } catch {
        return true;
      }
    };
    const draft = await this.draft();
    parsePublisherList(draft, { source: join(this.dir, DRAFT_FILE) });
    const signedList = stage.current.signedList;
    const targetsDue = due('targets') || !signedList || !Buffer.from(signedList).equals(draft);
    if (targetsDue) {
      const sha = createHash('sha256').update(draft).digest('hex');
      stage.files.set(join('targets', `${sha}.${PUBLISHER_LIST_TARGET}`), draft);
      const targets = new Targets({ version: (stage.current.targets?.signed.version ?? 0) + 1, specVersion: '1.0.31', expires: expiry(this.periods.targets) });
      targets.addTarget(new TargetFile({ path: PUBLISHER_LIST_TARGET, length: draft.length, hashes: { sha256: sha } }));
      this.signRole(stage, ring, 'targets', new Metadata(targets));
      stage.current.signedList = draft;
    }
    if (targetsDue || due('snapshot')) {
      const targets = stage.current.targets!;
      const meta = await this.metaFile(stage, `${targets.signed.version}.targets.json`, targets.signed.version);
      const snapshot = new Snapshot({ version: (stage.current.snapshot?.signed.version ?? 0) + 1, specVersion: '1.0.31', expires: expiry(this.periods.snapshot), meta: { 'targets.json': meta } });
      this.signRole(stage, ring, 'snapshot', new Metadata(snapshot));
    }
    if (stage.signed.some((s) => s.role === 'snapshot') || due('timestamp')) {
      const snapshot = stage.current.snapshot!;
      const meta = await this.metaFile(stage, `${snapshot.signed.version}.snapshot.json`, snapshot.signed.version);
      const timestamp = new Timestamp({ version: (stage.current.timestamp?.signed.version ?? 0) + 1, specVersion: '1.0.31', expires: expiry(this.periods.timestamp), snapshotMeta: meta });
      this.signRole(stage, ring, 'timestamp', new Metadata(timestamp));
    }
  }

  /** The version, length and SHA-256 of a metadata file as written (staged, or in the folder). */
  private async metaFile(stage: Stage, name: string, version: number): Promise<MetaFile> {
    const bytes = stage.files.get(join('metadata', name)) ?? (await readFile(join(this.dir, 'metadata', name), MAX_BYTES.targets));
    return new MetaFile({ version, length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } });
  }

  /**
   * Signs a new root with every root key the ring holds of the old root and of the new one (TUF:
   * a threshold of each) into `stage`, once both thresholds hold.
   */
  private signRoot(stage: Stage, ring: KeyRing, next: Root): void {
    const problem = rootProblem(next);
    if (problem) throw new ListRepositoryError(`the new root would be refused: ${problem}`);
    const old = stage.current.root;
    const metadata = new Metadata(next);
    const ids = [...new Set([...old.signed.roles.root!.keyIDs, ...next.roles.root!.keyIDs])];
    for (const key of ring.holding(ids)) signMetadata(metadata, key);
    for (const [name, verifier] of [['old', old], ['new', metadata]] as const) {
      try {
        verifier.verifyDelegate('root', metadata);
      } catch {
        const role = verifier.signed.roles.root!;
        throw new ListRepositoryError(`the ${name} root wants ${role.threshold} of its root keys (${role.keyIDs.join(', ')}); ${ring.dir} holds ${ring.holding(role.keyIDs).length}`);
      }
    }
    stage.files.set(join('metadata', `${next.version}.root.json`), Buffer.from(metadataText(metadata)));
    stage.current.root = metadata;
    stage.signed.push({ role: 'root', version: next.version, expires: next.expires });
  }

  /** Signs `metadata` for `role` with the ring's keys of that role into `stage`, once its threshold under the (staged) root holds. */
  private signRole<T extends Targets | Snapshot | Timestamp>(stage: Stage, ring: KeyRing, role: Exclude<RoleName, 'root'>, metadata: Metadata<T>): void {
    const wanted = stage.current.root.signed.roles[role]!;
    for (const key of ring.holding(wanted.keyIDs)) signMetadata(metadata, key);
    try {
      stage.current.root.verifyDelegate(role, metadata);
    } catch {
      throw new ListRepositoryError(`${role} wants ${wanted.threshold} of its keys (${wanted.keyIDs.join(', ')}); ${ring.dir} holds ${ring.holding(wanted.keyIDs).length}`);
    }
    const name = role === 'timestamp' ? 'timestamp.json' : `${metadata.signed.version}.${role}.json`;
    stage.files.set(join('metadata', name), Buffer.from(metadataText(metadata)));
    (stage.current as unknown as Record<string, unknown>)[role] = metadata;
    stage.signed.push({ role, version: metadata.signed.version, expires: metadata.signed.expires });
  }
}

/** Roles signed but not yet written: what they will be, and the files, in the order to write them. */
interface Stage {
  current: Current;
  files: Map<string, Uint8Array>;
  signed: Signed;
}

/** The keys folder must not be the uploaded folder nor lie inside it. */
export async function refuseKeysInside(dir: string, keysDir: string): Promise<void> {
  const real = async (path: string) => realpath(path).catch(() => resolve(path));
  const [repo, keys] = await Promise.all([real(dir), real(keysDir)]);
  const rel = relative(repo, keys);
  if (rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))) {
    throw new ListRepositoryError(`the keys folder ${keysDir} is inside ${dir}, which is uploaded: keep private keys elsewhere`);
  }
}

/** Metadata as written: JSON, two-space indented (the bytes snapshot and timestamp hash). */
function metadataText(metadata: Metadata<Root | Targets | Snapshot | Timestamp>): string {
  return `${JSON.stringify(metadata.toJSON(), null, 2)}\n`;
}

function draftText(list: unknown): string {
  return `${JSON.stringify(list, null, 2)}\n`;
}

/** `period` from now, in whole seconds, as TUF writes times. */
function expiry(period: number): string {
  return new Date(Math.floor((Date.now() + period) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

async function readFile(path: string, limit: number): Promise<Uint8Array> {
  const read = await readBounded(path, limit);
  if ('bytes' in read) return read.bytes;
  throw new ListRepositoryError('missing' in read ? `${path}: not found` : read.error);
}

async function readOptional(path: string, limit: number): Promise<Uint8Array | undefined> {
  const read = await readBounded(path, limit);
  if ('missing' in read) return undefined;
  if ('error' in read) throw new ListRepositoryError(read.error);
  return read.bytes;
}

async function readPeriods(dir: string): Promise<Record<RoleName, number>> {
  const text = await readOptional(join(dir, SIGNING_FILE), 64 * 1024);
  if (!text) return { ...DEFAULT_PERIODS };
  const json = parseStrictJSON(text, (error) => new ListRepositoryError(`${dir}/${SIGNING_FILE}: ${error.message}`, { cause: error }));
  if (!isJSONObject(json) || json.schema !== SIGNING_SCHEMA || !isJSONObject(json.expires)) throw new ListRepositoryError(`${dir}/${SIGNING_FILE}: not a signing file (schema ${SIGNING_SCHEMA})`);
  const periods = { ...DEFAULT_PERIODS };
  for (const [role, value] of Object.entries(json.expires)) {
    const ms = typeof value === 'string' ? parsePeriod(value) : undefined;
    if (!ROLE_NAMES.includes(role as RoleName) || ms === undefined) throw new ListRepositoryError(`${dir}/${SIGNING_FILE}: expires.${role} must be a role and a period such as "7d" or "12h"`);
    periods[role as RoleName] = ms;
  }
  return periods;
}

/** Key files or private key material anywhere in the folder that is uploaded: each by its path. */
export async function privateKeysIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const read = await readBounded(path, 4 * 1024 * 1024);
        const text = 'bytes' in read ? Buffer.from(read.bytes).toString('latin1') : '';
        if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text) || /"private"\s*:\s*"[0-9a-fA-F]{32,}"/.test(text)) found.push(relative(dir, path));
      }
    }
  };
  await walk(dir);
  return found.sort();
}
