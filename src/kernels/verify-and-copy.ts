import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Digest } from '../digest/digest.js';
import { DigestError } from '../hashing/errors.js';
import { changedAfterListed, changedWhileRead, fingerprintChanged, fingerprintOf, holdsMoreThanSize, type FileFingerprint } from '../hashing/fingerprint.js';
import { createHasher } from '../hashing/hasher.js';
import { ioError, listVariantTree } from '../hashing/variant-files.js';
import type { UnhashedEntry } from '../hashing/tree.js';
import { UnknownFile, type DigestViolation } from '../digest/violations.js';
import type { VerificationResult } from './result.js';
import { sortUnhashed } from '../hashing/unhashed-entries.js';
import { verifySignedMetadata, type VerifyVariantOptions } from './verify-variant.js';

export type VerifyAndCopyOptions = VerifyVariantOptions & {
  /** Where to create the private copy (a fresh directory inside it). Default: the system temp dir. */
  into?: string;
};

/** A verified private copy: `path` is the copy, `source` the directory it was made from. */
export type CopyResult = VerificationResult & { source: string };

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
  const { signer, metadata, digest, metadataBytes, bundleBytes } = signed.value;

  const parent = options.into ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const copy = await mkdtemp(join(parent, 'kernelseal-verified-')); // mkdtemp makes it 0700
  /** Removes the copy; the result names the source. */
  const fail = async (
    result: { status: 'digest-mismatch'; violations: DigestViolation[] } | { status: 'hash-failed'; reason: string } | { status: 'entry-refused'; entries: UnhashedEntry[] },
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
    await writeFile(join(copy, 'metadata.json'), metadataBytes, { mode: 0o600 });
    await writeFile(join(copy, 'metadata.json.sigstore'), bundleBytes, { mode: 0o600 });
    return { path: copy, source, status: 'verified', signer, metadata, digest };
  } catch (error) {
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
    await mkdir(dirname(to), { recursive: true, mode: 0o700 });
    const output = await open(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      let total = 0n;
      for (;;) {
        signal?.throwIfAborted();
        const { bytesRead } = await input.read(buffer, 0, CHUNK, null);
        if (bytesRead === 0) break;
        // Never past the size it had: a file that says 0 bytes and is endless (/proc) stops here.
        if (total + BigInt(bytesRead) > before.size) {
          const now = fingerprintOf(await input.stat({ bigint: true }));
          throw fingerprintChanged(before, now) ? changedWhileRead(from, 'copied', before, now) : holdsMoreThanSize(from, before.size);
        }
        const chunk = buffer.subarray(0, bytesRead);
        hasher.update(chunk);
        await output.write(chunk);
        total += BigInt(bytesRead);
      }
      const after = fingerprintOf(await input.stat({ bigint: true }));
      if (total !== before.size || fingerprintChanged(before, after)) throw changedWhileRead(from, 'copied', before, after);
    } finally {
      await output.close();
    }
    return hasher.digest();
  } finally {
    hasher.dispose();
    await input.close();
  }
}
