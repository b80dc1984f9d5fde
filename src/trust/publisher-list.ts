import { isJSONObject } from '../json/json-object.js';
import { isRepoId, isRepoOwner, REPO_ID_RULE } from '../repo-id.js';
import { parseStrictJSON } from '../json/strict-json.js';
import type { CertificateIdentity } from './certificate-identity.js';
import { parsePolicy } from './policy-file.js';
import { PolicyError } from './policy-error.js';
import type { Policy } from './policy.js';

// A trusted publisher list (docs/publishers.md, section 2): the one target of a TUF repository,
// listing which signers are trusted for which Hub repositories. This module reads the list
// strictly and holds the decision rule; src/kernels/publishers/ fetches and verifies the list.

/** The only schema this version reads. A new schema comes as a new target name, never as new keys. */
export const PUBLISHER_LIST_SCHEMA = 'kernelseal/kernel-publishers/v1';
/** The target name of the list in its TUF repository. */
export const PUBLISHER_LIST_TARGET = 'kernel-publishers.json';

/** The largest list read, in bytes. */
export const MAX_LIST_BYTES = 1024 * 1024;
/** The most entries a list may have. */
export const MAX_ENTRIES = 4096;
/** The largest entry, in characters of its JSON. */
export const MAX_ENTRY_CHARS = 16 * 1024;
/** The longest regular expression in a policy, in characters. */
export const MAX_PATTERN_CHARS = 1024;
/** The longest note or revocation reason, in characters. */
export const MAX_TEXT_CHARS = 1024;

/**
 * Why a publisher list cannot be used: malformed (`LIST_INVALID`); its TUF metadata refused
 * (`LIST_REFUSED`: a signature, a hash, a threshold, a key listed twice); older than what this
 * client (or a lock) has seen (`LIST_ROLLBACK`); expired or too old to use offline
 * (`LIST_EXPIRED`); not reachable with no usable state (`LIST_UNAVAILABLE`); the pinned root
 * not what was pinned (`LIST_ROOT_MISMATCH`); the client's state refused (`LIST_STATE_INVALID`);
 * the clock earlier than the last refresh (`LIST_CLOCK`).
 */
export type PublisherListErrorCode =
  | 'LIST_INVALID'
  | 'LIST_REFUSED'
  | 'LIST_ROLLBACK'
  | 'LIST_EXPIRED'
  | 'LIST_UNAVAILABLE'
  | 'LIST_ROOT_MISMATCH'
  | 'LIST_STATE_INVALID'
  | 'LIST_CLOCK';

/** A publisher list that cannot be used: never a fall back to another policy. */
export class PublisherListError extends Error {
  override readonly name = 'PublisherListError';
  constructor(
    readonly code: PublisherListErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** One entry: who may sign for the Hub repositories `repos` names. */
export interface PublisherEntry {
  /** Its position in the list, from 0. */
  readonly index: number;
  /** `org/name` or `org/*`, as written. */
  readonly repos: string;
  /** Certificate identities only (docs/publishers.md: a list means the same to every client). */
  readonly policy: Policy;
  /** Every verified signing time must fall in [validFrom, validUntil). */
  readonly validFrom?: Date;
  readonly validUntil?: Date;
  /** A deny: a signature this entry's policy accepts, signed at or after `at`, fails. */
  readonly revoked?: { readonly at: Date; readonly reason: string };
  readonly note?: string;
}

/** A list as read: its entries, where it came from and which version of it this is. */
export interface PublisherList {
  readonly entries: readonly PublisherEntry[];
  /** Where the list came from (its location), for messages. */
  readonly source: string;
  /** The TUF targets version that signed it; absent for a list read without TUF. */
  readonly version?: number;
}

const TOP_KEYS = new Set(['schema', 'entries']);
const ENTRY_KEYS = new Set(['repos', 'policy', 'validFrom', 'validUntil', 'revoked', 'note']);
const REVOKED_KEYS = new Set(['at', 'reason']);

/**
 * Reads `kernel-publishers.json` strictly: UTF-8 JSON with no repeated key, the one schema, no
 * unknown key anywhere, bounded sizes, valid patterns that appear once each, RFC 3339 times,
 * policies of certificate identities only. Any fault makes the whole list invalid
 * (PublisherListError `LIST_INVALID`, naming where).
 */
export function parsePublisherList(bytes: Uint8Array | string, from: { source: string; version?: number }): PublisherList {
  const invalid = (reason: string) => new PublisherListError('LIST_INVALID', `the publisher list ${from.source}${from.version === undefined ? '' : ` (version ${from.version})`} is invalid: ${reason}`);
  const fail = (reason: string): never => {
    throw invalid(reason);
  };
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (size > MAX_LIST_BYTES) fail(`${size} bytes, more than ${MAX_LIST_BYTES}`);
  const json = parseStrictJSON(bytes, (error) => invalid(error.message));
  const top = objectOf(json, '$', TOP_KEYS, fail);
  if (top.schema !== PUBLISHER_LIST_SCHEMA) fail(`$.schema must be ${JSON.stringify(PUBLISHER_LIST_SCHEMA)}, not ${JSON.stringify(top.schema) ?? 'missing'}`);
  if (!Array.isArray(top.entries)) fail('$.entries must be an array');
  const list = top.entries as unknown[];
  if (list.length > MAX_ENTRIES) fail(`${list.length} entries, more than ${MAX_ENTRIES}`);
  const seen = new Map<string, number>();
  const entries = list.map((item, index) => {
    const at = `$.entries[${index}]`;
    const entry = entryFrom(item, index, at, fail);
    const key = entry.repos.toLowerCase();
    if (seen.has(key)) fail(`${at}.repos ${JSON.stringify(entry.repos)} repeats entry ${seen.get(key)}: two entries for one pattern would make the list mean two things`);
    seen.set(key, index);
    return entry;
  });
  return { entries, source: from.source, ...(from.version === undefined ? {} : { version: from.version }) };
}

type Fail = (reason: string) => never;

function entryFrom(item: unknown, index: number, at: string, fail: Fail): PublisherEntry {
  const chars = JSON.stringify(item)?.length ?? 0;
  if (chars > MAX_ENTRY_CHARS) fail(`${at} is ${chars} characters long, more than ${MAX_ENTRY_CHARS}`);
  const object = objectOf(item, at, ENTRY_KEYS, fail);
  if (typeof object.repos !== 'string') fail(`${at}.repos must be a string`);
  const repos = object.repos as string;
  const unfit = repoPatternProblem(repos);
  if (unfit) fail(`${at}.repos ${JSON.stringify(repos)}: ${unfit}`);
  if (object.policy === undefined) fail(`${at}.policy is required`);
  let policy: Policy;
  try {
    policy = parsePolicy(object.policy, { identitiesOnly: true, maxPatternLength: MAX_PATTERN_CHARS });
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    return fail(`${at}.policy: ${error.message.replace(/^\$/, '')}`);
  }
  const validFrom = object.validFrom === undefined ? undefined : timeOf(object.validFrom, `${at}.validFrom`, fail);
  const validUntil = object.validUntil === undefined ? undefined : timeOf(object.validUntil, `${at}.validUntil`, fail);
  if (validFrom && validUntil && validFrom >= validUntil) fail(`${at}: validFrom must come before validUntil`);
  let revoked: PublisherEntry['revoked'];
  if (object.revoked !== undefined) {
    const r = objectOf(object.revoked, `${at}.revoked`, REVOKED_KEYS, fail);
    if (r.at === undefined) fail(`${at}.revoked.at is required`);
    revoked = { at: timeOf(r.at, `${at}.revoked.at`, fail), reason: textOf(r.reason, `${at}.revoked.reason`, fail) };
  }
  const note = object.note === undefined ? undefined : textOf(object.note, `${at}.note`, fail);
  return { index, repos, policy, ...(validFrom ? { validFrom } : {}), ...(validUntil ? { validUntil } : {}), ...(revoked ? { revoked } : {}), ...(note === undefined ? {} : { note }) };
}

function objectOf(json: unknown, at: string, known: ReadonlySet<string>, fail: Fail): Record<string, unknown> {
  if (!isJSONObject(json)) return fail(`${at} must be an object`);
  const object = json;
  for (const key of Object.keys(object)) {
    if (!known.has(key)) fail(`${at}: unknown key ${JSON.stringify(key)} (a new meaning comes as a new schema, never as new keys)`);
  }
  return object;
}

function textOf(value: unknown, at: string, fail: Fail): string {
  if (typeof value !== 'string' || value.length === 0) fail(`${at} must be a non-empty string`);
  if ((value as string).length > MAX_TEXT_CHARS) fail(`${at} is longer than ${MAX_TEXT_CHARS} characters`);
  return value as string;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/** An RFC 3339 date-time (`2026-06-01T00:00:00Z`, or with an offset), each field in range. */
function timeOf(value: unknown, at: string, fail: Fail): Date {
  const m = typeof value === 'string' ? RFC3339.exec(value) : null;
  if (!m) return fail(`${at} must be an RFC 3339 time such as "2026-06-01T00:00:00Z"`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const inRange =
    calendar.getUTCFullYear() === year && calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day && calendar.getUTCHours() === hour && calendar.getUTCMinutes() === minute && calendar.getUTCSeconds() === second;
  const offsetInRange = m[8] === 'Z' || (Number(m[9]) < 24 && Number(m[10]) < 60);
  if (!inRange || !offsetInRange) fail(`${at}: ${JSON.stringify(value)} is not a real time`);
  return new Date(Date.parse(value as string));
}

/** One segment of a Hub repository name: ASCII letters, digits, `.`, `_`, `-`; not only dots. */
/** Why `pattern` is not `org/name` or `org/*` (src/repo-id.ts: the Hub's rule for each), or undefined. */
export function repoPatternProblem(pattern: string): string | undefined {
  const [owner, name, ...more] = pattern.split('/');
  if (name === undefined || more.length > 0) return 'must be "org/name" or "org/*"';
  if (name === '*' ? isRepoOwner(owner!) : isRepoId(pattern)) return undefined;
  return `not a Hub repository id or "org/*": ${REPO_ID_RULE}`;
}

/** Whether `entry` covers `repoId`, compared as the Hub compares names (case-insensitively); `org/*` covers `org/x`, never `org-evil/x`. */
function covers(entry: PublisherEntry, repoId: string): boolean {
  const [org, name] = entry.repos.toLowerCase().split('/') as [string, string];
  const [repoOrg, repoName] = repoId.toLowerCase().split('/') as [string, string];
  return org === repoOrg && (name === '*' || name === repoName);
}

/** An entry as results name it: its pattern, note and place, and the list and version it is in. */
export interface PublisherEntryRef {
  repos: string;
  note?: string;
  /** Its position in the list, from 0. */
  index: number;
  /** The list's location. */
  list: string;
  /** The list's TUF targets version. */
  listVersion?: number;
}

/** Why an entry that decides did not allow the signature. */
export interface EntryMismatch {
  entry: PublisherEntryRef;
  /** `policy`: the signer is someone else; `window`: signed outside the entry's validity; `no-verified-time`: the entry has a window and nothing verified says when. */
  kind: 'policy' | 'window' | 'no-verified-time';
  detail: string;
}

/**
 * The verdict of a list for one signature: the entry that trusted the signer, or why not. A
 * refusal is `no-entry` (the list names neither `org/name` nor `org/*`), `revoked` (an entry
 * that matches revoked this signer at `at`), or `not-allowed` (each deciding entry, and why it
 * did not allow the signature). `message` says it in one sentence for people.
 */
export type PublisherDecision =
  | { trusted: true; entry: PublisherEntryRef; message: string }
  | { trusted: false; kind: 'no-entry'; message: string }
  | { trusted: false; kind: 'revoked'; entry: PublisherEntryRef; at: string; reason: string; message: string }
  | { trusted: false; kind: 'not-allowed'; mismatches: EntryMismatch[]; message: string };

/**
 * The decision rule of docs/publishers.md, section 2, for a signature over kernel `repoId`
 * whose certificate states `identity`, with `signedAt` every verified signing time (transparency
 * log integration with a signed promise, RFC 3161 timestamps; never the bundle's own claim):
 * 1. revocations of every entry covering `repoId` apply first: one whose policy accepts the
 *    signer revokes it unless every verified time comes before its `at`;
 * 2. then, if an entry names `repoId` exactly, only exact entries decide, else the `org/*` ones;
 * 3. among those, any one whose policy accepts the signer and whose window holds every verified
 *    time allows it. An entry with a window and a signature with no verified time do not fit.
 * Only call it once the signature itself has verified. A `repoId` that is no `org/name` is a
 * caller's mistake (TypeError).
 */
export function decidePublisher(list: PublisherList, repoId: string, identity: CertificateIdentity, signedAt: readonly Date[]): PublisherDecision {
  if (!isRepoId(repoId)) throw new TypeError(`a publisher list decides for a Hub repository "org/name", not ${JSON.stringify(repoId)}`);
  const which = `the publisher list ${list.source}${list.version === undefined ? '' : ` (version ${list.version})`}`;
  const ref = (entry: PublisherEntry): PublisherEntryRef => ({
    repos: entry.repos,
    ...(entry.note === undefined ? {} : { note: entry.note }),
    index: entry.index,
    list: list.source,
    ...(list.version === undefined ? {} : { listVersion: list.version }),
  });
  const times = signedAt.map((time) => time.toISOString());
  const matching = list.entries.filter((entry) => covers(entry, repoId));
  for (const entry of matching) {
    if (!entry.revoked || entry.policy.check(identity) !== undefined) continue;
    const { at, reason } = entry.revoked;
    if (signedAt.length > 0 && signedAt.every((time) => time < at)) continue;
    const when = signedAt.length === 0 ? 'no verified time shows it was signed before' : `signed at ${times.join(', ')}`;
    return {
      trusted: false,
      kind: 'revoked',
      entry: ref(entry),
      at: at.toISOString(),
      reason,
      message: `${which}, entry ${describe(entry)}, revoked this signer at ${at.toISOString()} (${reason}); ${when}`,
    };
  }
  const exact = matching.filter((entry) => !entry.repos.endsWith('/*'));
  const deciding = exact.length > 0 ? exact : matching;
  if (deciding.length === 0) {
    const org = repoId.split('/')[0];
    return { trusted: false, kind: 'no-entry', message: `${which} has no entry for ${repoId} (nor ${org}/*): it trusts no publisher for it` };
  }
  const mismatches: EntryMismatch[] = [];
  for (const entry of deciding) {
    const mismatch = entryMismatch(entry, identity, signedAt);
    if (!mismatch) return { trusted: true, entry: ref(entry), message: `trusted by ${which}, entry ${describe(entry)}` };
    mismatches.push({ entry: ref(entry), ...mismatch });
  }
  const overruled = exact.length > 0 && matching.length > exact.length ? ` (the entries for ${repoId.split('/')[0]}/* do not decide: an entry names ${repoId})` : '';
  const why = mismatches.map((m, i) => `entry ${describe(deciding[i]!)}: ${m.detail}`).join('; ');
  return { trusted: false, kind: 'not-allowed', mismatches, message: `${which} does not trust this signer for ${repoId}: ${why}${overruled}` };
}

/** `"org/*"` with its note, for messages. */
function describe(entry: PublisherEntry): string {
  return `${JSON.stringify(entry.repos)}${entry.note === undefined ? '' : ` (${entry.note})`}`;
}

function entryMismatch(entry: PublisherEntry, identity: CertificateIdentity, signedAt: readonly Date[]): Omit<EntryMismatch, 'entry'> | undefined {
  const reason = entry.policy.check(identity);
  if (reason !== undefined) return { kind: 'policy', detail: reason };
  if (entry.validFrom === undefined && entry.validUntil === undefined) return undefined;
  if (signedAt.length === 0) return { kind: 'no-verified-time', detail: 'the entry has a validity window and no verified time says when the signature was made' };
  for (const time of signedAt) {
    if (entry.validFrom && time < entry.validFrom) return { kind: 'window', detail: `signed at ${time.toISOString()}, before the entry's window opens (validFrom ${entry.validFrom.toISOString()})` };
    if (entry.validUntil && time >= entry.validUntil) return { kind: 'window', detail: `signed at ${time.toISOString()}, at or after the entry's window closed (validUntil ${entry.validUntil.toISOString()})` };
  }
  return undefined;
}
