import { unsafePathReason } from '../fs/relative-path.js';
import { DIGEST_ALGORITHMS, DIGEST_LENGTH, isDigestAlgorithm, type DigestAlgorithm } from './algorithm.js';
import { compareByteOrder } from './byte-order.js';
import { isJSONObject } from '../json/json-object.js';
import type { stringifyOrdered } from '../json/ordered-json.js';
import {
  AlgorithmMismatch,
  DigestValidationError,
  HashMismatch,
  MissingFile,
  UnknownFile,
  type DigestViolation,
} from './violations.js';

/**
 * A `digest` object that is not one (Digest.fromJSON): a fault of the file it came from, which
 * readers turn into their verdict; any other error from fromJSON is a bug, and propagates.
 */
export class DigestFormatError extends Error {
  override readonly name = 'DigestFormatError';
  readonly code = 'DIGEST_INVALID' as const;
}

/** The `digest` object of kernels `metadata.json`. */
export interface DigestJSON {
  algorithm: DigestAlgorithm;
  files: Record<string, string>;
}

/**
 * The digest of a kernel variant: one hash per file, keyed by relative path in byte order,
 * each the standard padded base64 of the raw digest. A drop-in for the reference `Digest`.
 * A value only: hashing a directory into one is src/hashing/hash-variant.ts.
 */
export class Digest {
  /** path -> standard padded base64, in byte order of the path. */
  readonly files: ReadonlyMap<string, string>;

  /**
   * `paths[i]` hashes to `hashes[i]`. Both arrays are taken over (sorted in place when the paths
   * are not in byte order already, as they usually are): a digest of 100,000 files must not
   * cost several copies of itself (the peak memory of verifying it counts them).
   */
  private constructor(
    readonly algorithm: DigestAlgorithm,
    paths: string[],
    hashes: string[],
  ) {
    let ordered = true;
    for (let i = 1; i < paths.length && ordered; i++) ordered = compareByteOrder(paths[i - 1]!, paths[i]!) < 0;
    const files = new Map<string, string>();
    if (ordered) {
      for (let i = 0; i < paths.length; i++) files.set(paths[i]!, hashes[i]!);
    } else {
      const order = Array.from(paths.keys()).sort((a, b) => compareByteOrder(paths[a]!, paths[b]!));
      for (const i of order) files.set(paths[i]!, hashes[i]!);
    }
    this.files = files;
  }

  /** A digest from raw digests: `digests` holds one per path, in the order of `paths`. */
  static fromRaw(algorithm: DigestAlgorithm, paths: readonly string[], digests: Uint8Array): Digest {
    const length = DIGEST_LENGTH[algorithm];
    if (digests.length !== paths.length * length) throw new TypeError(`expected ${paths.length} ${algorithm} digests of ${length} bytes`);
    const raw = Buffer.from(digests.buffer, digests.byteOffset, digests.byteLength);
    return new Digest(
      algorithm,
      [...paths],
      paths.map((_, i) => raw.toString('base64', i * length, (i + 1) * length)),
    );
  }

  /**
   * Reads a `digest` object: `algorithm` one of DIGEST_ALGORITHMS and `files` an object of
   * path -> padded base64 of the right length. Throws a DigestFormatError naming what is wrong.
   */
  static fromJSON(value: unknown): Digest {
    if (!isJSONObject(value)) throw new DigestFormatError('digest must be an object');
    const { algorithm, files } = value;
    if (!isDigestAlgorithm(algorithm)) {
      throw new DigestFormatError(`digest.algorithm must be one of ${DIGEST_ALGORITHMS.join(', ')}, not ${JSON.stringify(algorithm) ?? 'missing'}`);
    }
    if (!isJSONObject(files)) throw new DigestFormatError('digest.files must be an object of path -> base64 hash');
    const expectedLength = Math.ceil(DIGEST_LENGTH[algorithm] / 3) * 4;
    const paths = Object.keys(files);
    const hashes = paths.map((path) => {
      const unsafe = unsafePathReason(path);
      if (unsafe) throw new DigestFormatError(`digest.files lists ${JSON.stringify(path)}: ${unsafe}`);
      const hash = files[path];
      if (typeof hash !== 'string' || hash.length !== expectedLength || !isCanonicalBase64(hash, DIGEST_LENGTH[algorithm])) {
        throw new DigestFormatError(
          `digest.files[${JSON.stringify(path)}] must be the padded base64 of a ${algorithm} hash (${expectedLength} characters)`,
        );
      }
      return hash;
    });
    return new Digest(algorithm, paths, hashes);
  }

  /**
   * The `digest` object, files in byte order. (JavaScript objects list integer-like keys
   * first whatever the insertion order; kernelseal's own writers use {@link toOrderedJSON}.)
   */
  toJSON(): DigestJSON {
    const files: Record<string, string> = Object.create(null);
    for (const [path, hash] of this.files) files[path] = hash;
    return { algorithm: this.algorithm, files };
  }

  /** The digest object with `files` in byte order, for {@link stringifyOrdered}. */
  toOrderedJSON(): Map<string, unknown> {
    return new Map<string, unknown>([
      ['algorithm', this.algorithm],
      ['files', this.files],
    ]);
  }

  /** The violations of `actual` against this (expected) digest, in the reference's order. */
  violations(actual: Digest): DigestViolation[] {
    const violations: DigestViolation[] = [];
    if (this.algorithm !== actual.algorithm) {
      violations.push(new AlgorithmMismatch(this.algorithm, actual.algorithm));
    }
    for (const [path, expected] of this.files) {
      const got = actual.files.get(path);
      if (got === undefined) violations.push(new MissingFile(path));
      else if (got !== expected) violations.push(new HashMismatch(path, expected, got));
    }
    for (const path of actual.files.keys()) {
      if (!this.files.has(path)) violations.push(new UnknownFile(path));
    }
    return violations;
  }

  /**
   * The violations of raw hashes against this (expected) digest: exactly
   * `this.violations(Digest.fromRaw(algorithm, paths, digests))`, without building that digest
   * when the two agree. `paths` as the engine lists them (byte order, crates/engine/src/walk.rs)
   * meet this digest's keys one for one, so a single pass in step proves the same key set and
   * the same hashes; any difference (or another order) takes the full comparison, which also
   * names every violation. For 100,000 files, sorting and mapping the entries cost more than
   * this pass (README.md, Benchmarks: `verifyVariant` of 100,000 files).
   */
  violationsOfRaw(algorithm: DigestAlgorithm, paths: readonly string[], digests: Uint8Array): DigestViolation[] {
    const length = DIGEST_LENGTH[algorithm];
    if (algorithm === this.algorithm && paths.length === this.files.size && digests.length === paths.length * length) {
      const raw = Buffer.from(digests.buffer, digests.byteOffset, digests.byteLength);
      let i = 0;
      for (const [path, hash] of this.files) {
        if (paths[i] !== path || raw.toString('base64', i * length, (i + 1) * length) !== hash) break;
        i++;
      }
      if (i === paths.length) return [];
    }
    return this.violations(Digest.fromRaw(algorithm, paths, digests));
  }

  /** Checks `actual` against this (expected) digest; throws DigestValidationError listing every violation. */
  validate(actual: Digest): void {
    const violations = this.violations(actual);
    if (violations.length > 0) throw new DigestValidationError(violations);
  }
}

/** Standard padded base64 of exactly `length` bytes, in its one canonical spelling. */
function isCanonicalBase64(text: string, length: number): boolean {
  return canonicalBase64(length).test(text);
}

const CANONICAL_BASE64 = new Map<number, RegExp>();

/**
 * The one spelling of `length` bytes in padded base64, as a pattern (checked per file of a
 * digest: 100,000 round trips through Buffer cost more than the rest of reading the digest).
 * The last character before the padding carries 4 (one byte left over) or 2 (two bytes) unused
 * bits, which must be zero: the characters whose value has those low bits clear.
 */
function canonicalBase64(length: number): RegExp {
  let pattern = CANONICAL_BASE64.get(length);
  if (!pattern) {
    const whole = Math.floor(length / 3) * 4;
    const tail = length % 3 === 0 ? '' : length % 3 === 1 ? '[A-Za-z0-9+/][AQgw]==' : '[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=';
    pattern = new RegExp(`^[A-Za-z0-9+/]{${whole}}${tail}$`);
    CANONICAL_BASE64.set(length, pattern);
  }
  return pattern;
}

