import { join } from 'node:path';
import { DIGEST_LENGTH } from '../../digest/algorithm.js';
import type { Digest } from '../../digest/digest.js';
import type { VariantEntry } from '../../hashing/tree.js';
import type { HubCache, PlacedBlob } from './cache.js';
import { fingerprintEntry, variantReceipt, type ReceiptLines, type ReceiptSubject, type VariantReceipt } from './receipts.js';
import { SoleWriter, lookAt } from './sole-writer.js';

/**
 * Why a load may skip hashing the variant's files: a receipt from an earlier verification of
 * the very same files still holds (`receipt`), or every file is a blob this load hashed as it
 * streamed in (`streamed`, with the fingerprint of the files for a receipt to record).
 */
export type HashingWaived = { by: 'receipt' } | { by: 'streamed'; fingerprint: ReceiptLines };

/**
 * The one question a load asks before it hashes a verified variant's files: may it skip that?
 * Two witnesses answer it, both only for files no one but this user (and root) can write
 * (src/kernels/hub/sole-writer.ts: a file's times do not show every write):
 *
 * - the variant's receipt (src/kernels/hub/receipts.ts): these files, with these inodes, sizes
 *   and change times, were verified against the digest signed in this metadata.json;
 * - the blobs this load downloaded: each written to a file it created (O_EXCL), hashed chunk by
 *   chunk with the signed digest's algorithm, checked against the signed entry before it was
 *   renamed into place (src/kernels/hub/cache.ts ensureFile), and told here (`streamedIn`) by
 *   its identity once in place. If the variant now consists of exactly those files, every byte
 *   a loader can read was hashed on the way in and matches the signed digest.
 *
 * Anything else (a blob already in the cache, written by someone else, changed, replaced,
 * loosened or linked since, a file the digest does not list, a digest entry with no file) and
 * the load verifies in full (src/kernels/verify-variant.ts), then records a receipt.
 */
export class SkipHashing {
  /** `${dev}:${ino}` -> a blob streamed in, as placed, and its hash (base64, as digests spell it). */
  private readonly blobs = new Map<string, { placed: PlacedBlob; hash: string }>();

  private constructor(private readonly receipt: VariantReceipt) {}

  /** For the variant `subject` in `cache`; without a usable receipt key (a warning says why) no receipt holds and none is written. */
  static async open(cache: HubCache, subject: ReceiptSubject, warn: (message: string) => void): Promise<SkipHashing> {
    return new SkipHashing(await variantReceipt(cache, subject, warn));
  }

  /** A blob this load placed, hashed as it streamed in. */
  streamedIn(placed: PlacedBlob): void {
    this.blobs.set(`${placed.stats.dev}:${placed.stats.ino}`, { placed, hash: Buffer.from(placed.hash).toString('base64') });
  }

  /** Whether the variant at `dir`, as a walk that found nothing unhashed lists it (`entries`), may skip hashing, and why. */
  async ask(dir: string, entries: readonly VariantEntry[], digest: Digest): Promise<HashingWaived | undefined> {
    if (await this.receipt.holds(dir, entries)) return { by: 'receipt' };
    const fingerprint = await this.streamed(dir, entries, digest);
    return fingerprint && { by: 'streamed', fingerprint };
  }

  /** Records that the files fingerprinted are verified: the receipt a later load asks. */
  record(dir: string, files: ReceiptLines): Promise<void> {
    return this.receipt.write(dir, files);
  }

  /**
   * The fingerprint of the variant at `dir` when every one of its files (`entries`) is a blob
   * streamed in, unchanged, whose hash is the signed one for that file's key; else undefined.
   */
  private async streamed(dir: string, entries: readonly VariantEntry[], digest: Digest): Promise<ReceiptLines | undefined> {
    if (this.blobs.size === 0 || entries.length !== digest.files.size) return undefined;
    const length = DIGEST_LENGTH[digest.algorithm];
    const sole = new SoleWriter();
    const checks = await Promise.all(
      // The walk's look: its fingerprint, and whose file it is (owner, mode, device).
      entries.map(async (entry) => {
        const look = await lookAt(dir, entry).catch(() => undefined);
        if (!look) return undefined;
        const { fingerprint: now, access } = look;
        const blob = this.blobs.get(`${access.dev}:${now.ino}`);
        const was = blob?.placed.stats;
        const holds =
          was !== undefined &&
          now.size === was.size &&
          now.mtimeNs === was.mtimeNs &&
          now.ctimeNs === was.ctimeNs &&
          blob!.placed.hash.length === length &&
          digest.files.get(entry.key) === blob!.hash &&
          // The hash holds for the bytes as written; only a file no one else can write still holds them.
          (await sole.owns(join(dir, entry.key), access));
        return holds ? fingerprintEntry(entry.key, now) : undefined;
      }),
    );
    return checks.every((line) => line !== undefined) ? (checks as ReceiptLines) : undefined;
  }
}
