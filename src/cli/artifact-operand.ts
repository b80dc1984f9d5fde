import { stat } from 'node:fs/promises';
import { digestBackend } from './library/backend.js';
import type { HashProgress } from './library/hashing.js';
import { readBounded, type HashName, type Artifact } from './library/verifying.js';
import type { Checked } from './render-result.js';
import { UsageError } from './usage.js';

/** An artifact known only by its digest, as the sigstore-conformance protocol and gh spell it. */
export const DIGEST = /^(sha256:[0-9a-fA-F]{64}|sha384:[0-9a-fA-F]{96}|sha512:[0-9a-fA-F]{128})$/;

/** Artifacts larger than this are hashed (with the digest engine) rather than read whole. */
const READ_WHOLE_LIMIT = 256 * 1024 * 1024;

/**
 * The artifact operand: `sha256:<hex>` (or sha384:, sha512:), or a path read as bytes (up to
 * READ_WHOLE_LIMIT) or as its SHA-256, streamed by the digest engine (with `onProgress`). Both
 * open it non-blocking and refuse anything but a regular file, so a FIFO given as the artifact
 * is refused, not waited on; the stat below only picks the way. Also says what was read, for
 * the ✅ line.
 */
export async function readArtifact(subject: string, onProgress?: (progress: HashProgress) => void): Promise<{ artifact: Artifact; checked: Checked }> {
  if (DIGEST.test(subject)) {
    const [algorithm, hex] = subject.split(':') as [HashName, string];
    return { artifact: { digest: Buffer.from(hex, 'hex'), algorithm }, checked: { how: 'digest-given' } };
  }
  const cannotRead = (reason: string): never => {
    throw new UsageError(`cannot read the artifact ${subject}: ${reason}`);
  };
  const { size } = await stat(subject).catch((error: Error) => cannotRead(error.message));
  const checked = { how: 'hashed', files: 1, bytes: size } as const;
  if (size > READ_WHOLE_LIMIT) {
    const digest = await digestBackend().hashFile(subject, 'sha256', { onProgress }).catch((error: Error) => cannotRead(error.message));
    return { artifact: { digest, algorithm: 'sha256' }, checked };
  }
  const read = await readBounded(subject, READ_WHOLE_LIMIT);
  if (!('bytes' in read)) return cannotRead('error' in read ? read.error : 'no such file');
  return { artifact: { bytes: read.bytes }, checked };
}
