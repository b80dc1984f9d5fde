import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Digest } from '../digest/digest.js';
import { parseStrictJSON } from '../json/strict-json.js';

/** metadata.json is missing, unreadable, or carries no valid digest. */
export class MetadataReadError extends Error {
  override readonly name = 'MetadataReadError';
  readonly code = 'METADATA_UNREADABLE' as const;
}

/**
 * The digest stored in `<dir>/metadata.json`. This reads unsigned JSON: it is for tools
 * (`kernelseal digest --check`), never a trust decision; `verifyVariant` parses metadata only
 * after its signature holds.
 */
export async function readMetadataDigest(dir: string): Promise<Digest> {
  const path = join(dir, 'metadata.json');
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new MetadataReadError(error.code === 'ENOENT' ? `${path}: not found` : `${path}: cannot read: ${error.message}`, { cause: error });
  });
  let metadata: unknown;
  try {
    metadata = parseStrictJSON(text);
  } catch (error) {
    throw new MetadataReadError(`${path}: ${(error as Error).message}`, { cause: error });
  }
  const digest = (metadata as { digest?: unknown } | null)?.digest;
  if (digest === undefined) throw new MetadataReadError(`${path}: metadata does not have a digest`);
  try {
    return Digest.fromJSON(digest);
  } catch (error) {
    throw new MetadataReadError(`${path}: ${(error as Error).message}`, { cause: error });
  }
}
