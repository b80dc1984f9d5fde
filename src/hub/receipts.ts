import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { walkVariant } from '../digest/walk.js';

/**
 * A verification receipt: "these files, with these inodes, sizes and change times, hashed to
 * the digest signed in this metadata.json". A later load of the same variant that finds the
 * same fingerprint skips re-hashing; any change (a write changes ctime, which only root can
 * set back) means a full verification again. The signature and policy are always checked.
 */
interface Receipt {
  version: 1;
  metadataSha256: string;
  files: Fingerprint;
}

/** [key, size, inode, mtime ns, ctime ns] of every file of the variant (symlinks followed). */
type Fingerprint = Array<[string, string, string, string, string]>;

/** Where the receipt of a variant at a commit lives in the cache. */
export function receiptPath(repoDir: string, commit: string, variant: string): string {
  return join(repoDir, '.kernelseal', 'receipts', commit, `${variant}.json`);
}

/** The files of the variant as they are now, by the walker's rules. */
export async function fingerprint(dir: string): Promise<Fingerprint> {
  const entries = await walkVariant(dir);
  return Promise.all(
    entries.map(async (entry): Promise<Fingerprint[number]> => {
      const info = await stat(join(dir, entry.key), { bigint: true });
      return [entry.key, String(info.size), String(info.ino), String(info.mtimeNs), String(info.ctimeNs)];
    }),
  );
}

const metadataHash = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Whether a receipt vouches for `dir` as it is now, under this exact metadata.json. */
export async function receiptHolds(path: string, dir: string, metadataBytes: Uint8Array): Promise<boolean> {
  let receipt: Receipt;
  try {
    receipt = JSON.parse(await readFile(path, 'utf8')) as Receipt;
  } catch {
    return false;
  }
  if (receipt?.version !== 1 || receipt.metadataSha256 !== metadataHash(metadataBytes)) return false;
  return JSON.stringify(await fingerprint(dir).catch(() => undefined)) === JSON.stringify(receipt.files);
}

/** Records that `dir`, fingerprinted as `files` before and after hashing, verified. */
export async function writeReceipt(path: string, metadataBytes: Uint8Array, files: Fingerprint): Promise<void> {
  const receipt: Receipt = { version: 1, metadataSha256: metadataHash(metadataBytes), files };
  await mkdir(dirname(path), { recursive: true });
  // A name of its own: two fetches in one process may write the same receipt at once.
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(receipt));
  await rename(temp, path);
}
