import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DIGEST_LENGTH } from '../../digest/algorithm.js';
import type { Digest } from '../../digest/digest.js';
import { fingerprintOf } from '../../hashing/fingerprint.js';
import type { VariantEntry } from '../../hashing/tree.js';
import type { PlacedBlob } from './cache.js';
import { fingerprintEntry, type Fingerprint } from './receipts.js';
import { SoleWriter } from './sole-writer.js';

/**
 * The blobs one getKernel call downloaded and hashed as they streamed to disk (README.md,
 * Benchmarks: a first verified load against a plain download of the same bytes): each
 * was written to a file it created (O_EXCL), hashed chunk by chunk with the signed digest's
 * algorithm, checked against the signed entry before being renamed into place, and recorded
 * here by its identity (device, inode, size, times) once in place.
 *
 * `vouch` says whether the variant as it is now consists of exactly those files: if so, every
 * byte a loader can read was hashed on the way in and matches the signed digest, and reading
 * the files again would prove nothing more, as long as no one else can write them (their
 * times do not show every write: src/kernels/hub/sole-writer.ts). Anything else (a blob already
 * in the cache, written by someone else, changed, replaced, loosened or linked since, a file the
 * digest does not list, a digest entry with no file) and the caller verifies in full, as before
 * (src/kernels/verify-variant.ts).
 */
export class StreamedBlobs {
  /** `${dev}:${ino}` -> the blob as placed and its hash (base64, as digests spell it). */
  private readonly blobs = new Map<string, { placed: PlacedBlob; hash: string }>();

  record(placed: PlacedBlob): void {
    this.blobs.set(`${placed.stats.dev}:${placed.stats.ino}`, { placed, hash: Buffer.from(placed.hash).toString('base64') });
  }

  /**
   * The fingerprint of the variant at `dir` (for its receipt) when every one of its files
   * (`entries`, from a walk that found nothing unhashed) is a blob recorded here, unchanged,
   * whose hash is the signed one for that file's key; else undefined.
   */
  async vouch(dir: string, entries: readonly VariantEntry[], digest: Digest): Promise<Fingerprint | undefined> {
    if (this.blobs.size === 0 || entries.length !== digest.files.size) return undefined;
    const length = DIGEST_LENGTH[digest.algorithm];
    const sole = new SoleWriter();
    const checks = await Promise.all(
      // Stat'ed again, not taken from the walk: whose file it is (owner, mode, device) is no part of a fingerprint.
      entries.map(async ({ key }) => {
        const info = await stat(join(dir, key), { bigint: true }).catch(() => undefined);
        if (!info) return undefined;
        const blob = this.blobs.get(`${info.dev}:${info.ino}`);
        const was = blob?.placed.stats;
        const holds =
          was !== undefined &&
          info.size === was.size &&
          info.mtimeNs === was.mtimeNs &&
          info.ctimeNs === was.ctimeNs &&
          blob!.placed.hash.length === length &&
          digest.files.get(key) === blob!.hash &&
          // The hash holds for the bytes as written; only a file no one else can write still
          // holds them (its times do not show every write: src/kernels/hub/sole-writer.ts).
          (await sole.owns(join(dir, key), info));
        return holds ? fingerprintEntry(key, fingerprintOf(info, true)) : undefined;
      }),
    );
    return checks.every((line) => line !== undefined) ? (checks as Fingerprint) : undefined;
  }
}
