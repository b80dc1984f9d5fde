import { Key, MetaFile, Metadata, Root, Signature, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { MockRoute } from './mock-hub.js';

// TUF repositories for publisher lists, built by the tests with @tufjs/models alone (not with
// kernelseal's maintainer code, which the client must not be tested against only), and served
// from the mock Hub as `<endpoint>/[datasets/]org/name/resolve/<revision>/...` or written to a
// folder. Each change is a new version, as `kernelseal publishers sign` makes them, and every
// version stays served (consistent snapshots), so that tests can serve old ones as attacks.

export type RoleName = 'root' | 'targets' | 'snapshot' | 'timestamp';

export interface TestKey {
  id: string;
  key: Key;
  privateKey: KeyObject;
}

/** Canonical JSON (sorted keys, no spaces) of plain strings and objects: what a key ID hashes. */
const canonical = (value: unknown): string =>
  typeof value === 'object' && value !== null
    ? `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
    : JSON.stringify(value);

/** A new ed25519 key (or `privateKey` again) with its TUF key ID, the SHA-256 of its canonical JSON, or `id` when given: one key under another ID. */
export function makeKey(id?: string, privateKey: KeyObject = generateKeyPairSync('ed25519').privateKey): TestKey {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const json = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: spki.subarray(-32).toString('hex') } };
  const keyID = id ?? createHash('sha256').update(canonical(json)).digest('hex');
  return { id: keyID, key: new Key({ keyID, keyType: json.keytype, scheme: json.scheme, keyVal: json.keyval }), privateKey };
}

const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');

export function signWith<T extends Root | Timestamp | Snapshot | Targets>(metadata: Metadata<T>, keys: readonly TestKey[]): Metadata<T> {
  for (const key of keys) metadata.sign((data) => new Signature({ keyID: key.id, sig: sign(null, data, key.privateKey).toString('hex') }), true);
  return metadata;
}

const bytesOf = (metadata: Metadata<Root | Timestamp | Snapshot | Targets>) => Buffer.from(JSON.stringify(metadata.toJSON()));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** How a role is signed: expiry in days from now (negative: already expired), and with which keys. */
export interface SignOptions {
  expires?: Partial<Record<RoleName, number>>;
  keys?: Partial<Record<RoleName, TestKey[]>>;
}

export interface RepoOptions {
  rootKeys?: number;
  rootThreshold?: number;
  /** Expiry of each role in days from now (negative: already expired). */
  expires?: Partial<Record<RoleName, number>>;
  consistentSnapshot?: boolean;
}

/** A publisher list's TUF repository: its files by path (`metadata/1.root.json`, `targets/<sha>.kernel-publishers.json`). */
export class TestTufRepo {
  readonly files = new Map<string, Buffer>();
  readonly keys: Record<RoleName, TestKey[]>;
  root: Metadata<Root>;
  version = { targets: 0, snapshot: 0, timestamp: 0 };
  /** Every timestamp signed, by version: an old one served again is a rollback or a freeze. */
  readonly timestamps = new Map<number, Buffer>();
  private readonly expires: Record<RoleName, number>;
  private target: { length: number; sha: string } | undefined;

  constructor(options: RepoOptions = {}) {
    this.expires = { root: 365, targets: 90, snapshot: 30, timestamp: 7, ...options.expires };
    this.keys = {
      root: Array.from({ length: options.rootKeys ?? 1 }, () => makeKey()),
      targets: [makeKey()],
      snapshot: [makeKey()],
      timestamp: [makeKey()],
    };
    const root = new Root({ version: 1, specVersion: '1.0.31', expires: days(this.expires.root), consistentSnapshot: options.consistentSnapshot ?? true });
    for (const role of ['root', 'targets', 'snapshot', 'timestamp'] as const) for (const key of this.keys[role]) root.addKey(key.key, role);
    (root.roles.root as { threshold: number }).threshold = options.rootThreshold ?? 1;
    this.root = signWith(new Metadata(root), this.keys.root);
    this.files.set('metadata/1.root.json', bytesOf(this.root));
  }

  /** The bytes of `1.root.json`: what a user pins. */
  get pinnedRoot(): Buffer {
    return this.files.get('metadata/1.root.json')!;
  }

  /** A new list: a new target, targets, snapshot and timestamp. */
  publish(list: unknown, options: SignOptions = {}): this {
    const content = Buffer.isBuffer(list) ? list : Buffer.from(JSON.stringify(list));
    const sha = sha256(content);
    this.files.set(`targets/${sha}.kernel-publishers.json`, content);
    this.target = { length: content.length, sha };
    return this.signTargets(options);
  }

  /** Targets (and then snapshot and timestamp) signed again. */
  signTargets(options: SignOptions = {}): this {
    const targets = new Targets({ version: ++this.version.targets, specVersion: '1.0.31', expires: days(options.expires?.targets ?? this.expires.targets) });
    if (this.target) targets.addTarget(new TargetFile({ path: 'kernel-publishers.json', length: this.target.length, hashes: { sha256: this.target.sha } }));
    this.files.set(`metadata/${this.version.targets}.targets.json`, bytesOf(signWith(new Metadata(targets), options.keys?.targets ?? this.keys.targets)));
    return this.signSnapshot(options);
  }

  /** A snapshot naming the newest targets (or `targetsVersion`), then a timestamp. */
  signSnapshot(options: SignOptions & { targetsVersion?: number } = {}): this {
    const version = options.targetsVersion ?? this.version.targets;
    const targets = this.files.get(`metadata/${version}.targets.json`)!;
    const snapshot = new Snapshot({
      version: ++this.version.snapshot,
      specVersion: '1.0.31',
      expires: days(options.expires?.snapshot ?? this.expires.snapshot),
      meta: { 'targets.json': new MetaFile({ version, length: targets.length, hashes: { sha256: sha256(targets) } }) },
    });
    this.files.set(`metadata/${this.version.snapshot}.snapshot.json`, bytesOf(signWith(new Metadata(snapshot), options.keys?.snapshot ?? this.keys.snapshot)));
    return this.signTimestamp(options);
  }

  /** A timestamp naming the newest snapshot (or `snapshotVersion`). */
  signTimestamp(options: SignOptions & { snapshotVersion?: number } = {}): this {
    const version = options.snapshotVersion ?? this.version.snapshot;
    const snapshot = this.files.get(`metadata/${version}.snapshot.json`)!;
    const timestamp = new Timestamp({
      version: ++this.version.timestamp,
      specVersion: '1.0.31',
      expires: days(options.expires?.timestamp ?? this.expires.timestamp),
      snapshotMeta: new MetaFile({ version, length: snapshot.length, hashes: { sha256: sha256(snapshot) } }),
    });
    const bytes = bytesOf(signWith(new Metadata(timestamp), options.keys?.timestamp ?? this.keys.timestamp));
    this.timestamps.set(this.version.timestamp, bytes);
    this.files.set('metadata/timestamp.json', bytes);
    return this;
  }

  /**
   * A new root: `change` edits a copy of the current one; it is signed by `signers` (default:
   * the current root keys; TUF wants the old and the new root keys' thresholds) and published as
   * `<version>.root.json`.
   */
  rotateRoot(change: (root: Root) => void = () => {}, signers: TestKey[] = this.keys.root): this {
    const next = Root.fromJSON({ ...this.root.signed.toJSON(), version: this.root.signed.version + 1, expires: days(this.expires.root) });
    change(next);
    this.root = signWith(new Metadata(next), signers);
    this.files.set(`metadata/${next.version}.root.json`, bytesOf(this.root));
    return this;
  }

  /** Writes the repository to `dir` (metadata/ and targets/), as a maintainer's folder. */
  writeTo(dir: string): string {
    for (const [path, bytes] of this.files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes);
    }
    return dir;
  }

  /**
   * A route of the mock Hub serving this repository as the Hub serves a repository's files:
   * `/<prefix>org/name/resolve/<revision>/<path>` (prefix `datasets/` for a dataset). `override`
   * maps a path to other bytes (an attack) or to null (a 404).
   */
  route(repo: string, options: { revision?: string; override?: Map<string, Buffer | null> } = {}): MockRoute {
    const prefix = `/${repo}/resolve/${options.revision ?? 'main'}/`;
    return (path: string, res: ServerResponse) => {
      if (!path.startsWith(prefix)) return false;
      const name = decodeURIComponent(path.slice(prefix.length));
      const bytes = options.override?.has(name) ? options.override.get(name) : this.files.get(name);
      if (!bytes) res.writeHead(404).end('Entry not found');
      else res.writeHead(200, { 'Content-Length': String(bytes.length) }).end(bytes);
      return true;
    };
  }
}

/** A mock Hub route serving a folder on disk as the Hub serves `repo`'s files at `main` (a maintainer's upload). */
export function folderRoute(repo: string, dir: string): MockRoute {
  const prefix = `/${repo}/resolve/main/`;
  return (path: string, res: ServerResponse) => {
    if (!path.startsWith(prefix)) return false;
    const file = join(dir, ...decodeURIComponent(path.slice(prefix.length)).split('/'));
    if (!existsSync(file)) res.writeHead(404).end('Entry not found');
    else res.writeHead(200).end(readFileSync(file));
    return true;
  };
}

/** A list body with the given entries. */
export function listOf(...entries: unknown[]): { schema: string; entries: unknown[] } {
  return { schema: 'kernelseal/kernel-publishers/v1', entries };
}
