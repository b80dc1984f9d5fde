import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readBounded } from '../fs/read-bounded.js';
import { isJSONObject } from '../json/json-object.js';
import { parseStrictJSON } from '../json/strict-json.js';
import type { KeyValidity } from '../sigstore/trust-anchor.js';

/** The npm registry's keys document is unusable, or names no key we may use. */
export class NpmKeysError extends Error {
  override readonly name = 'NpmKeysError';
  readonly code = 'NPM_KEYS_INVALID' as const;
}

/** A key the npm registry signs publish attestations with, and when. */
export interface NpmKey {
  keyId: string;
  publicKey: KeyObject;
  validFor: KeyValidity;
}

/** The only use of a registry key that may sign an attestation (the others sign package metadata). */
const ATTESTATION_KEY_USAGE = 'npm:attestations';
const SEEDS_TARGET = 'registry.npmjs.org%2Fkeys.json';

/**
 * The npm registry's attestation keys from its keys document (`{"keys": [{keyId, keyUsage,
 * publicKey: {rawBytes, keyDetails, validFor}}]}`, as served through Sigstore's TUF
 * repository). Keys for other uses are left out; every attestation key must parse and say
 * when it starts to be valid. `source` names the document in errors.
 */
export function parseNpmKeys(bytes: Uint8Array | string, source: string): NpmKey[] {
  const fail = (reason: string): never => {
    throw new NpmKeysError(`${source}: ${reason}`);
  };
  const json = parseStrictJSON(bytes, (error) => new NpmKeysError(`${source}: ${error.message}`, { cause: error }));
  const keys = isJSONObject(json) ? json.keys : undefined;
  if (!Array.isArray(keys)) fail('not an npm keys document (no "keys" array)');
  const found = (keys as Array<Record<string, any>>).flatMap((entry, i) => {
    if (entry?.keyUsage !== ATTESTATION_KEY_USAGE) return [];
    const where = `keys[${i}]`;
    if (typeof entry.keyId !== 'string' || entry.keyId === '') fail(`${where} has no keyId`);
    const raw = entry.publicKey?.rawBytes;
    if (typeof raw !== 'string') fail(`${where} has no public key`);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: Buffer.from(raw, 'base64'), format: 'der', type: 'spki' });
    } catch (error) {
      return fail(`${where} has a public key that does not parse: ${(error as Error).message}`);
    }
    const start = new Date(entry.publicKey.validFor?.start);
    const end = entry.publicKey.validFor?.end === undefined ? undefined : new Date(entry.publicKey.validFor.end);
    if (Number.isNaN(start.getTime())) fail(`${where} has no validity start`);
    if (end && (Number.isNaN(end.getTime()) || end < start)) fail(`${where} has an invalid validity end`);
    return [{ keyId: entry.keyId as string, publicKey, validFor: { start, end } }];
  });
  if (found.length === 0) fail(`no key for ${ATTESTATION_KEY_USAGE}`);
  return found;
}

/** Reads an npm keys document (`--npm-keys FILE`). */
export async function readNpmKeys(path: string): Promise<NpmKey[]> {
  const read = await readBounded(path, 1024 * 1024);
  if ('missing' in read) throw new NpmKeysError(`${path}: not found`);
  if ('error' in read) throw new NpmKeysError(read.error);
  return parseNpmKeys(read.bytes, path);
}

let pinned: NpmKey[] | undefined;

/**
 * The registry's keys as pinned in `@sigstore/tuf`'s seeds: the target Sigstore's TUF
 * repository serves for them, in the copy installed with kernelseal (as the pinned trusted root).
 */
export function pinnedNpmKeys(): NpmKey[] {
  if (pinned) return pinned;
  const require = createRequire(import.meta.url);
  const seedsPath = require.resolve('@sigstore/tuf/seeds.json');
  const seeds = JSON.parse(readFileSync(seedsPath, 'utf8')) as Record<string, { targets?: Record<string, string> }>;
  const target = Object.values(seeds).map((repository) => repository.targets?.[SEEDS_TARGET]).find(Boolean);
  if (!target) throw new NpmKeysError(`${seedsPath}: no ${SEEDS_TARGET} target`);
  pinned = parseNpmKeys(Buffer.from(target, 'base64'), `${seedsPath} (${SEEDS_TARGET})`);
  return pinned;
}
