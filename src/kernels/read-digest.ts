import { join } from 'node:path';
import { Digest, DigestFormatError } from '../digest/digest.js';
import { isJSONObject } from '../json/json-object.js';
import { readStrictJSONFile } from '../json/strict-json.js';
import { MAX_METADATA_BYTES } from './metadata.js';

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
  const metadata = await readStrictJSONFile(path, MAX_METADATA_BYTES, (message, cause) => new MetadataReadError(message, { cause }));
  const digest = isJSONObject(metadata) ? metadata.digest : undefined;
  if (digest === undefined) throw new MetadataReadError(`${path}: metadata does not have a digest`);
  try {
    return Digest.fromJSON(digest);
  } catch (error) {
    if (!(error instanceof DigestFormatError)) throw error;
    throw new MetadataReadError(`${path}: ${error.message}`, { cause: error });
  }
}
