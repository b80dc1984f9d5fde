import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fingerprintOf, type FingerprintWithCtime } from '../../hashing/fingerprint.js';
import type { VariantEntry } from '../../hashing/tree.js';
import type { DigestBackend } from '../../hashing/backend.js';
import { listVariantTreeWithCtime } from '../../hashing/variant-files.js';
import type { HubCache } from './cache.js';
import { readReceiptKey } from './receipt-key.js';
import { SoleWriter, lookAt } from './sole-writer.js';

/**
 * A verification receipt: "these files, with these inodes, sizes and change times, hashed to
 * the digest signed in this metadata.json". A later load of the same variant that finds the
 * same fingerprint skips re-hashing; any change (a write changes ctime, which only root can
 * set back) means a full verification again. The signature and policy are always checked.
 *
 * Not every write shows in the times (a write through a mapping into a page already dirty does
 * not), so a receipt is written for, and holds for, files no one but this user (and root) can
 * write, on a local file system (src/kernels/hub/sole-writer.ts); any other file is hashed on
 * every load. Each user has a receipt of their own, so that users sharing a cache do not
 * overwrite each other's.
 *
 * Receipts sit in the cache, which others may write to, so each carries an HMAC-SHA256, with
 * the user's own key kept outside the cache (src/kernels/hub/receipt-key.ts), over everything it says:
 * version, cache folder, repository, commit, variant, metadata.json's hash and the fingerprint.
 * One that does not match byte for byte what we would write now is not trusted.
 */
interface ReceiptBody {
  version: 2;
  repoDir: string;
  repoId: string;
  commit: string;
  variant: string;
  metadataSha256: string;
  files: ReceiptLines;
}

/**
 * [key, size, inode, mtime ns, ctime ns] of every file of the variant (symlinks followed): one
 * line per file, each a file fingerprint of src/hashing/fingerprint.ts (FileFingerprint; the
 * engine's `Fingerprint`) with its change time, spelled out.
 */
export type ReceiptLines = Array<[string, string, string, string, string]>;

/** One file's line of a receipt. */
export function fingerprintEntry(key: string, file: FingerprintWithCtime): ReceiptLines[number] {
  return [key, String(file.size), String(file.ino), String(file.mtimeNs), String(file.ctimeNs)];
}

/**
 * The files of the variant as they are now, by the walker's rules; `entries`, when the caller
 * has just walked the variant, spares walking it again, and their fingerprints, when the walk
 * took the change time (src/hashing/variant-files.ts), stat'ing each file again.
 */
export async function fingerprint(dir: string, entries?: readonly VariantEntry[], backend?: DigestBackend): Promise<ReceiptLines> {
  entries ??= (await listVariantTreeWithCtime(dir, { backend })).entries;
  return Promise.all(entries.map(async (entry) => fingerprintEntry(entry.key, (await lookAt(dir, entry)).fingerprint)));
}

/** What a receipt of one verified variant is about. */
export interface ReceiptSubject {
  repoId: string;
  commit: string;
  variant: string;
  metadataBytes: Uint8Array;
}

/** The receipt of a variant: whether it vouches for the files as they are now, and recording a new one. */
export interface VariantReceipt {
  holds(dir: string, entries?: readonly VariantEntry[]): Promise<boolean>;
  /** Records `files` (of the variant at `dir`), unless one of them is a file others could change unseen. */
  write(dir: string, files: ReceiptLines): Promise<void>;
}

/** A receipt larger than the one we expect by this much is not a stale receipt but something else. */
const SLACK_BYTES = 1024 * 1024;

/** The receipt of `subject` in `cache`; without a usable key (a warning says why) none holds and none is written. */
export async function variantReceipt(cache: HubCache, subject: ReceiptSubject, warn: (message: string) => void): Promise<VariantReceipt> {
  const path = join(cache.repoDir, '.kernelseal', 'receipts', subject.commit, `${subject.variant}.${process.geteuid?.() ?? 'user'}.json`);
  const keyed = await readReceiptKey();
  if ('refused' in keyed) {
    warn(keyed.refused);
    return { holds: async () => false, write: async () => {} };
  }
  const text = (files: ReceiptLines) => {
    const body: ReceiptBody = {
      version: 2,
      repoDir: cache.repoDir,
      repoId: subject.repoId,
      commit: subject.commit,
      variant: subject.variant,
      metadataSha256: createHash('sha256').update(subject.metadataBytes).digest('hex'),
      files,
    };
    const json = JSON.stringify(body);
    // JSON.stringify({ ...body, mac }), without spelling the file lines out a second time.
    return Buffer.from(`${json.slice(0, -1)},"mac":"${createHmac('sha256', keyed.key).update(json).digest('hex')}"}`);
  };
  return {
    async holds(dir, entries) {
      entries ??= (await listVariantTreeWithCtime(dir).catch(() => undefined))?.entries;
      if (!entries) return false;
      // The walk's look at each file, which says who may write it too: no second stat per file.
      const looks = await Promise.all(entries.map((entry) => lookAt(dir, entry))).catch(() => undefined);
      if (!looks) return false;
      const expected = text(looks.map((look, index) => fingerprintEntry(entries[index]!.key, look.fingerprint)));
      const read = await cache.read(path, expected.length + SLACK_BYTES);
      if ('error' in read) warn(`ignoring the receipt: ${read.error}`);
      if (!('bytes' in read) || read.bytes.length !== expected.length || !timingSafeEqual(read.bytes, expected)) return false;
      const sole = new SoleWriter();
      return (await Promise.all(looks.map((look, index) => sole.owns(join(dir, entries[index]!.key), look.access)))).every(Boolean);
    },
    async write(dir, files) {
      if (!(await ownedAlone(dir, files))) return; // hashed in full on every load: a receipt would never hold
      // Only an optimisation: a receipt we cannot record (a planted link, a full disk) costs a re-hash next time.
      await cache.write(path, text(files)).catch((error: Error) => warn(`no receipt recorded: ${error.message}`));
    },
  };
}

/**
 * Whether every file of `files` (the variant at `dir`) is still the file fingerprinted, and one
 * no one but this user and root can change (src/kernels/hub/sole-writer.ts).
 */
async function ownedAlone(dir: string, files: ReceiptLines): Promise<boolean> {
  const sole = new SoleWriter();
  const checks = await Promise.all(
    files.map(async (line) => {
      const path = join(dir, line[0]);
      const info = await stat(path, { bigint: true }).catch(() => undefined);
      return info !== undefined && fingerprintEntry(line[0], fingerprintOf(info, true)).every((field, i) => field === line[i]) && (await sole.owns(path, info));
    }),
  );
  return checks.every(Boolean);
}
