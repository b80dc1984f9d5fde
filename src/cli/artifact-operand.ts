import { stat } from 'node:fs/promises';
import { digestBackend } from '../hashing/select-backend.js';
import { readBounded } from '../fs/read-bounded.js';
import type { HashName } from '../sigstore/prehashed.js';
import type { Artifact } from '../sigstore/verify-bundle.js';
import { UsageError } from './usage.js';

/** An artifact known only by its digest, as the sigstore-conformance protocol and gh spell it. */
export const DIGEST = /^(sha256:[0-9a-fA-F]{64}|sha384:[0-9a-fA-F]{96}|sha512:[0-9a-fA-F]{128})$/;

/** Artifacts larger than this are hashed (with the digest engine) rather than read whole. */
const READ_WHOLE_LIMIT = 256 * 1024 * 1024;

/**
 * The artifact operand: `sha256:<hex>` (or sha384:, sha512:), or a path read as bytes (up to
 * READ_WHOLE_LIMIT) or as its SHA-256, streamed by the digest engine. Both open it non-blocking
 * and refuse anything but a regular file, so a FIFO given as the artifact is refused, not
 * waited on; the stat below only picks the way.
 */
export async function readArtifact(subject: string): Promise<Artifact> {
  if (DIGEST.test(subject)) {
    const [algorithm, hex] = subject.split(':') as [HashName, string];
    return { digest: Buffer.from(hex, 'hex'), algorithm };
  }
  const cannotRead = (reason: string): never => {
    throw new UsageError(`cannot read the artifact ${subject}: ${reason}`);
  };
  const { size } = await stat(subject).catch((error: Error) => cannotRead(error.message));
  if (size > READ_WHOLE_LIMIT) {
    return { digest: await digestBackend().hashFile(subject, 'sha256').catch((error: Error) => cannotRead(error.message)), algorithm: 'sha256' };
  }
  const read = await readBounded(subject, READ_WHOLE_LIMIT);
  if (!('bytes' in read)) return cannotRead('error' in read ? read.error : 'no such file');
  return { bytes: read.bytes };
}
