import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { METADATA_ALGORITHMS } from '../digest/algorithm.js';
import type { Digest } from '../digest/digest.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { stringifyOrdered } from '../json/ordered-json.js';
import { setTopLevelMember } from '../json/set-member.js';
import { isJSONObject } from '../json/json-object.js';
import { parseStrictJSON } from '../json/strict-json.js';

/** Writing a digest into metadata.json failed; the file is unchanged. */
export class MetadataWriteError extends Error {
  override readonly name = 'MetadataWriteError';
  readonly code = 'METADATA_NOT_WRITTEN' as const;
}

/**
 * The text of metadata.json with `digest` as its `digest` field, and every other byte as it was
 * (a parse and re-serialisation would turn `1.0` into `1`, round integers beyond 2^53 and
 * `1e400` into null: signed fields must say what their author wrote). The digest is laid out as
 * the reference writer does, at the indentation of the object's members, `files` in byte order.
 * `path` names the file in errors.
 */
export function metadataWithDigest(text: string, digest: Digest, path: string): string {
  if (!METADATA_ALGORITHMS.includes(digest.algorithm)) {
    throw new MetadataWriteError(
      `cannot write a ${digest.algorithm} digest into metadata.json: kernels readers accept only sha256 and sha512`,
    );
  }
  const metadata = parseStrictJSON(text, (error) => new MetadataWriteError(`${path}: ${error.message}`, { cause: error }));
  if (!isJSONObject(metadata)) throw new MetadataWriteError(`${path}: not a JSON object`);
  const value = digest.toOrderedJSON();
  return setTopLevelMember(text, 'digest', (indent) =>
    indent === '' && !text.includes('\n') ? stringifyOrdered(value, 0) : stringifyOrdered(value).split('\n').join(`\n${indent}`),
  );
}

/** Reads `<dir>/metadata.json` as text; errors say whether it is missing or unreadable. */
export async function readMetadataText(dir: string): Promise<{ path: string; text: string }> {
  const path = join(dir, 'metadata.json');
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new MetadataWriteError(
      error.code === 'ENOENT'
        ? `${path}: not found (the digest is written into an existing metadata.json)`
        : `${path}: cannot read: ${error.message}`,
    );
  });
  return { path, text };
}

/**
 * Stores `digest` into `<dir>/metadata.json` (see {@link metadataWithDigest}), replacing the file
 * atomically. Returns the path written.
 */
export async function writeDigestToMetadata(dir: string, digest: Digest): Promise<string> {
  const { path, text } = await readMetadataText(dir);
  await writeFileAtomic(path, metadataWithDigest(text, digest, path));
  return path;
}
