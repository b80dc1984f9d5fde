import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { withFileSlot } from '../../fs/file-slots.js';

/**
 * The IDs the Hub gives a file's content (src/kernels/hub/hub-client.ts `HubFile`): a file in
 * LFS by the SHA-256 of its content, any other by its Git blob ID (SHA-1 of `blob <size>\0` and
 * the content). The Hugging Face cache names each blob by one of them (its etag), so the length
 * of a blob's name says which kind it claims to be; only its content says what it is.
 */
export type ObjectKind = 'lfs' | 'git';

/** The kind of object a blob's file name claims (64 hex digits: LFS; 40: Git), or undefined for any other name. */
export function claimedKind(name: string): ObjectKind | undefined {
  if (/^[0-9a-f]{64}$/.test(name)) return 'lfs';
  if (/^[0-9a-f]{40}$/.test(name)) return 'git';
  return undefined;
}

/** The ID of `bytes` as an object of `kind`, in hex. */
export function objectId(bytes: Uint8Array, kind: ObjectKind): string {
  return objectHash(kind, bytes.length).update(bytes).digest('hex');
}

/**
 * The ID of the regular file at `path` (links followed) as an object of `kind`, read to its end;
 * undefined when it is not a regular file, cannot be read, or is not as long as its size said.
 */
export function fileObjectId(path: string, kind: ObjectKind): Promise<string | undefined> {
  return withFileSlot(() => readObjectId(path, kind)); // asked of every file of a variant at once
}

async function readObjectId(path: string, kind: ObjectKind): Promise<string | undefined> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined); // a FIFO must not stall us
  if (!handle) return undefined;
  try {
    const info = await handle.stat();
    if (!info.isFile()) return undefined;
    const hash = objectHash(kind, info.size);
    let read = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false })) {
      read += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
    return read === info.size ? hash.digest('hex') : undefined;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

function objectHash(kind: ObjectKind, size: number) {
  return kind === 'lfs' ? createHash('sha256') : createHash('sha1').update(`blob ${size}\0`);
}
