import { Metadata, MetadataKind, type Key, type Root } from '@tufjs/models';
// tuf-js's own reading of a TUF key (hex or PEM, per key type): the key a signature is checked with.
import { getPublicKey } from '@tufjs/models/dist/utils/key.js';
import { createHash } from 'node:crypto';
import { parseStrictJSON } from '../../json/strict-json.js';

// What a publisher list's root must be beyond what TUF checks (docs/publishers.md, sections 1
// and 3): consistent snapshots; every key listed once, since tuf-js counts the key IDs that
// signed, and one key under two IDs would count twice toward a threshold; and no key of the root
// serving an online role (timestamp, snapshot), whose keys sit in CI. Checked on the pinned root
// and on every root before tuf-js may trust it, and by `publishers check`.

/** Root metadata that is none, or breaks the rules above; the message names it and says why. */
export class RootRefusedError extends Error {
  override readonly name = 'RootRefusedError';
  readonly code = 'ROOT_REFUSED' as const;
}

/** The roles whose keys sign unattended, in CI: never a root key. */
export const ONLINE_ROLES = ['timestamp', 'snapshot'] as const;

/** A key as a fingerprint of its public key (SHA-256 of its SPKI DER), whatever its key ID says. */
export function keyFingerprint(key: Key): string {
  const { key: publicKey } = getPublicKey({ keyType: key.keyType, scheme: key.scheme, keyVal: key.keyVal.public ?? '' });
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex');
}

/** Why `root` breaks one of the rules above, or undefined. */
export function rootProblem(root: Root): string | undefined {
  if (!root.consistentSnapshot) return 'it does not use consistent snapshots ("consistent_snapshot": true)';
  const byKey = new Map<string, string>();
  for (const [id, key] of Object.entries(root.keys)) {
    let fingerprint: string;
    try {
      fingerprint = keyFingerprint(key);
    } catch (error) {
      return `key ${id} cannot be read (${(error as Error).message})`;
    }
    const other = byKey.get(fingerprint);
    if (other !== undefined) return `one key is listed twice, as ${other} and ${id}: it would count twice toward a threshold`;
    byKey.set(fingerprint, id);
  }
  for (const [name, role] of Object.entries(root.roles)) {
    if (new Set(role.keyIDs).size !== role.keyIDs.length) return `role ${name} lists a key ID twice`;
  }
  const rootKeys = new Set(root.roles.root?.keyIDs ?? []);
  for (const online of ONLINE_ROLES) {
    const shared = (root.roles[online]?.keyIDs ?? []).find((id) => rootKeys.has(id));
    if (shared !== undefined) return `key ${shared} signs both root and ${online}: an online key must never be a root key`;
  }
  return undefined;
}

/**
 * Reads root metadata strictly (UTF-8 JSON, no repeated key: signed JSON must not mean two
 * things) and checks the rules above. Throws RootRefusedError with the reason; `what` names it.
 */
export function readRoot(bytes: Uint8Array, what: string): Metadata<Root> {
  let root: Metadata<Root>;
  try {
    root = Metadata.fromJSON(MetadataKind.Root, parseStrictJSON(bytes) as Parameters<typeof Metadata.fromJSON>[1]);
  } catch (error) {
    // tuf-js's complaints about the document (TypeErrors among them: it reads what it is given).
    throw new RootRefusedError(`${what} is not TUF root metadata: ${(error as Error).message}`, { cause: error });
  }
  const problem = rootProblem(root.signed);
  if (problem) throw new RootRefusedError(`${what} is refused: ${problem}`);
  return root;
}
