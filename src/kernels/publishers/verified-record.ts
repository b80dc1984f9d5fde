import { createHash } from 'node:crypto';
import { PUBLISHER_LIST_TARGET, parsePublisherList, type PublisherList } from '../../trust/publisher-list.js';
import { VERSION } from '../../version.js';
import { ROLES, type ClientRecord, type ClientState, type Role, type RoleState, type VerifiedCache } from './client-state.js';
import { MAX_BYTES } from './list-fetcher.js';

// When the cache may answer without tuf-js (docs/publishers.md, section 3). A full verification
// of the cache from the pinned root depends on nothing but the pinned root, the cached files, the
// client's floor, a lock's lowest targets version and the clock; the clock enters only as each
// role's expiry. So once a verification has recorded each role's version and expiry and the
// SHA-256 of every file it read, the same files give the same answer while every role is
// unexpired, and verifying their signatures again is only spent time. The record sits in the
// user's private state (ClientState.at: 0700, owner-checked), trusted as the floor beside it is:
// whoever can write it can already write the floor. Anything missing or different here and the
// caller verifies the cache in full (which then refuses, or refreshes, as it always did): this
// never answers where that would not.

/** The list in the target file named by its SHA-256 (what tuf-js's findCachedTarget reads). */
export function targetFileName(sha256: string): string {
  return `${sha256}.${PUBLISHER_LIST_TARGET}`;
}

/** The metadata a verification from the pinned root (version `pinnedVersion`) reads: each later root, then the top-level roles. */
export function verifiedMetadataNames(pinnedVersion: number, rootVersion: number): string[] {
  const roots = Array.from({ length: Math.max(0, rootVersion - pinnedVersion) }, (_, i) => `${pinnedVersion + 1 + i}.root.json`);
  return [...roots, 'timestamp.json', 'snapshot.json', 'targets.json'];
}

/** What a verification that just succeeded found, for the record: `metadata` holds the bytes it verified, by name. */
export function verifiedCache(roles: Record<Role, RoleState>, metadata: ReadonlyMap<string, Uint8Array>, target: Uint8Array): VerifiedCache {
  return {
    by: VERSION,
    roles,
    metadata: Object.fromEntries([...metadata].map(([name, bytes]) => [name, sha256Hex(bytes)])),
    target: { sha256: sha256Hex(target), length: target.length },
  };
}

/** The list the record answers for, as the last verification found it; undefined when the cache must be verified in full. */
export async function listFromRecord(
  state: ClientState,
  record: ClientRecord,
  context: { location: string; pinnedVersion: number; minTargetsVersion?: number; now: number },
): Promise<{ list: PublisherList; roles: Record<Role, RoleState> } | undefined> {
  const facts = record.verified;
  if (!facts || facts.by !== VERSION || !holds(facts, record, context)) return undefined;
  // The files are read at once: small, and each read waits mostly on the file system.
  const [same, bytes] = await Promise.all([sameFiles(state, facts, context.pinnedVersion), state.cached(state.targetsDir, targetFileName(facts.target.sha256), MAX_BYTES.target)]);
  if (!same || !bytes || bytes.length !== facts.target.length || sha256Hex(bytes) !== facts.target.sha256) return undefined;
  return { list: parsePublisherList(bytes, { source: context.location, version: facts.roles.targets.version }), roles: facts.roles };
}

/**
 * The rules a full verification applies that depend on more than the files: every role unexpired
 * now (as tuf-js and refuseExpiredCache count: expired at its instant), none below the floor or
 * the lock's lowest targets version.
 */
function holds(facts: VerifiedCache, record: ClientRecord, context: { minTargetsVersion?: number; now: number }): boolean {
  for (const role of ROLES) {
    if (!(facts.roles[role].expires.getTime() > context.now) || facts.roles[role].version < record.floor[role]) return false;
  }
  return facts.roles.targets.version >= (context.minTargetsVersion ?? 0);
}

/**
 * The cached metadata is what was verified, byte for byte: every root of the chain from the
 * pinned one and the three other roles, and no newer root beside them (a full verification would
 * read it and walk on).
 */
async function sameFiles(state: ClientState, facts: VerifiedCache, pinnedVersion: number): Promise<boolean> {
  const names = verifiedMetadataNames(pinnedVersion, facts.roles.root.version);
  if (Object.keys(facts.metadata).length !== names.length) return false;
  const kindOf = (name: string) => (name.endsWith('.root.json') ? 'root' : (name.slice(0, -'.json'.length) as 'timestamp' | 'snapshot' | 'targets'));
  const [next, ...files] = await Promise.all([`${facts.roles.root.version + 1}.root.json`, ...names].map((name) => state.cached(state.metadataDir, name, MAX_BYTES[kindOf(name)])));
  return next === undefined && names.every((name, i) => files[i] !== undefined && facts.metadata[name] === sha256Hex(files[i]!));
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
