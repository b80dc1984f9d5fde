import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Digest } from '../digest/digest.js';
import { DigestError } from '../hashing/errors.js';
import { changedAfterListed, changedWhileRead, fingerprintChanged, fingerprintOf, holdsMoreThanSize, type FileFingerprint } from '../hashing/fingerprint.js';
import { createHasher } from '../hashing/hasher.js';
import { describeSystemError } from '../hashing/system-error.js';
import { ioError, listVariantTree } from '../hashing/variant-files.js';
import type { UnhashedEntry } from '../hashing/tree.js';
import { UnknownFile, type DigestViolation } from '../digest/violations.js';
import type { VerificationResult } from './result.js';
import { sortUnhashed } from '../hashing/unhashed-entries.js';
import { checkPlatform, checkProvenance, verifySignedMetadata, type VerifyVariantOptions } from './verify-variant.js';

export type VerifyAndCopyOptions = VerifyVariantOptions & {
  /** Where to create the private copy (a fresh directory inside it). Default: the system temp dir. */
  into?: string;
};

/**
 * A verified private copy: `path` is the copy, `source` the directory it was made from. Besides
 * verifyVariant's results, `copy-failed`: the copy could not be written in full (a full disk, a
 * file-size limit, no permission in `into`); nothing of it is left, and nothing was verified.
 */
export type CopyResult = (VerificationResult | { path: string; status: 'copy-failed'; reason: string }) & { source: string };

const CHUNK = 1024 * 1024;
/** Open the source without following a FIFO into a blocking read; refuse it right after. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0);

/**
 * Verifies a variant and hands back a private copy of exactly the bytes that were verified,
 * closing the gap between check and use: verifyVariant reads the files, but a process able to
 * write to the directory (a shared hub cache) could swap one before Python or dlopen loads it.
 * Here every file is hashed as it is copied into a fresh directory only this user can enter
 * (mode 0700); the copy, not the source, is what the caller loads. It never holds bytecode. On any failure the copy is
 * removed and the result says why, as verifyVariant's would.
 */
export async function verifyAndCopyVariant(source: string, options: VerifyAndCopyOptions): Promise<CopyResult> {
  const signed = await verifySignedMetadata(source, options);
  if ('result' in signed) return { ...signed.result, source };
  const provenance = await checkProvenance(source, signed.value, options);
  if ('result' in provenance) return { ...provenance.result, source };
  const { signer, metadata, digest, metadataBytes, bundleBytes, sourceWarning, sourceNotCompared } = signed.value;

  const parent = options.into ?? tmpdir();
  let copy: string;
  try {
    await mkdir(parent, { recursive: true });
    copy = await mkdtemp(join(parent, 'kernelseal-verified-')); // mkdtemp makes it 0700
  } catch (error) {
    return { status: 'copy-failed', reason: writeFailed(parent, 'create a folder in', error).message, path: source, source };
  }
  /** Removes the copy; the result names the source. */
  const fail = async (
    result:
      | { status: 'digest-mismatch'; violations: DigestViolation[] }
      | { status: 'hash-failed' | 'copy-failed' | 'platform-mismatch'; reason: string }
      | { status: 'entry-refused'; entries: UnhashedEntry[] },
  ): Promise<CopyResult> => {
    await rm(copy, { recursive: true, force: true });
    return { ...result, path: source, source };
  };
  try {
    const { entries, unhashed } = await listVariantTree(source, options.signal);
    // Bytecode is simply not copied (the copy holds only verified files); anything else left
    // out of the digest is refused, as verifyVariant refuses it.
    const { refused } = sortUnhashed(unhashed);
    if (refused.length > 0) return fail({ status: 'entry-refused', entries: refused });
    // Files the signed digest does not list are refused before a byte is copied (an endless
    // /proc file planted under a new name must not fill the disk first).
    const unknown = entries.filter((entry) => !digest.files.has(entry.key));
    if (unknown.length > 0) return fail({ status: 'digest-mismatch', violations: unknown.map((entry) => new UnknownFile(entry.key)) });
    const hashes: Uint8Array[] = [];
    for (const entry of entries) {
      options.signal?.throwIfAborted();
      hashes.push(await copyAndHash(join(source, entry.key), join(copy, entry.key), entry.fingerprint, digest.algorithm, options.signal));
    }
    const actual = Digest.fromRaw(digest.algorithm, entries.map((entry) => entry.key), Buffer.concat(hashes));
    const violations = digest.violations(actual);
    if (violations.length > 0) return fail({ status: 'digest-mismatch', violations });
    // Read from the copy: the bytes that were verified, which nobody else can change.
    const platform = await checkPlatform(basename(resolve(source)), copy, entries.map((entry) => entry.key));
    if (platform) return fail(platform);
    await writeCopy(join(copy, 'metadata.json'), metadataBytes);
    await writeCopy(join(copy, 'metadata.json.sigstore'), bundleBytes);
    return { path: copy, source, status: 'verified', signer, metadata, digest, ...(sourceWarning ? { sourceMismatch: sourceWarning } : {}), ...(sourceNotCompared ? { sourceNotCompared } : {}), ...(provenance.value ? { provenance: provenance.value } : {}) };
  } catch (error) {
    if (error instanceof CopyWriteError) return fail({ status: 'copy-failed', reason: error.message });
    if (error instanceof DigestError) return fail({ status: 'hash-failed', reason: error.message });
    await rm(copy, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Copies one file, hashing the bytes it writes; refuses special files, a file that is not the
 * one the walk `listed` (replaced, rewritten), and one that changes while copied: the rule of
 * hashing/fingerprint.ts, as the engine hashes.
 */
async function copyAndHash(from: string, to: string, listed: FileFingerprint, algorithm: Digest['algorithm'], signal?: AbortSignal): Promise<Uint8Array> {
  const input = await open(from, READ_FLAGS).catch((error: unknown) => {
    throw ioError(from, 'open', error);
  });
  const hasher = createHasher(algorithm);
  try {
    const stats = await input.stat({ bigint: true });
    if (!stats.isFile()) throw new DigestError('NOT_A_REGULAR_FILE', from, 'not a regular file');
    const before = fingerprintOf(stats);
    if (fingerprintChanged(listed, before)) throw changedAfterListed(from, listed, before);
    const output = await createCopy(to);
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      let total = 0n;
      for (;;) {
        signal?.throwIfAborted();
        const { bytesRead } = await input.read(buffer, 0, CHUNK, null).catch((error: unknown) => {
          throw ioError(from, 'read', error);
        });
        if (bytesRead === 0) break;
        // Never past the size it had: a file that says 0 bytes and is endless (/proc) stops here.
        if (total + BigInt(bytesRead) > before.size) {
          const now = fingerprintOf(await input.stat({ bigint: true }));
          throw fingerprintChanged(before, now) ? changedWhileRead(from, 'copied', before, now) : holdsMoreThanSize(from, before.size);
        }
        const chunk = buffer.subarray(0, bytesRead);
        hasher.update(chunk);
        await writeAll(output, to, chunk);
        total += BigInt(bytesRead);
      }
      const after = fingerprintOf(await input.stat({ bigint: true }));
      if (total !== before.size || fingerprintChanged(before, after)) throw changedWhileRead(from, 'copied', before, after);
      await finishCopy(output, to, total);
    } finally {
      await output.close().catch(() => undefined); // a failed close after a good fsync loses nothing
    }
    return hasher.digest();
  } finally {
    hasher.dispose();
    await input.close();
  }
}

/**
 * Writing the copy failed: its path and the system's reason. Not a verdict about the source (the
 * result is `copy-failed`), and never `hash-failed`, which speaks of the source's files.
 */
class CopyWriteError extends Error {
  override readonly name = 'CopyWriteError';
  readonly code = 'COPY_WRITE_FAILED';
}

function writeFailed(path: string, action: string, error: unknown): CopyWriteError {
  return new CopyWriteError(`cannot ${action} ${path}: ${describeSystemError(error)}`, { cause: error });
}

/** A new file of the copy (its folders made first), opened only if nothing is there yet. */
async function createCopy(to: string): Promise<FileHandle> {
  try {
    await mkdir(dirname(to), { recursive: true, mode: 0o700 });
    return await open(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    throw writeFailed(to, 'create', error);
  }
}

/**
 * Writes all of `chunk`: write(2) may write less than asked (a file-size limit reached mid-chunk,
 * a disk filling up), and the bytes it did not write were still hashed.
 */
async function writeAll(output: FileHandle, to: string, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await output.write(chunk, offset, chunk.length - offset).catch((error: unknown) => {
      throw writeFailed(to, 'write', error);
    });
    if (bytesWritten <= 0) throw new CopyWriteError(`cannot write ${to}: the system wrote nothing`);
    offset += bytesWritten;
  }
}

/**
 * Flushes a copied file to disk (a full disk may only say so now, on file systems that allocate
 * late) and checks that it holds every byte hashed.
 */
async function finishCopy(output: FileHandle, to: string, hashed: bigint): Promise<void> {
  try {
    await output.sync();
  } catch (error) {
    throw writeFailed(to, 'flush', error);
  }
  const { size } = await output.stat({ bigint: true });
  if (size !== hashed) throw new CopyWriteError(`cannot write ${to}: it holds ${size} bytes, ${hashed} were verified`);
}

/** metadata.json and its bundle, as verified, into the copy. */
async function writeCopy(to: string, bytes: Uint8Array): Promise<void> {
  const output = await createCopy(to);
  try {
    await writeAll(output, to, bytes);
    await finishCopy(output, to, BigInt(bytes.length));
  } finally {
    await output.close().catch(() => undefined);
  }
}
