import type { DigestAlgorithm } from './algorithm.js';

// The texts below are the reference's, exactly (docs/design.md section 4): users and tools grep them.

/** The digest was made with another algorithm than expected. */
export class AlgorithmMismatch {
  readonly kind = 'algorithm-mismatch';
  constructor(
    readonly expected: DigestAlgorithm,
    readonly actual: DigestAlgorithm,
  ) {}
  toString(): string {
    return `Algorithm mismatch: expected: ${this.expected.toUpperCase()}, got: ${this.actual.toUpperCase()}`;
  }
}

/** A file listed in the expected digest is not on disk. */
export class MissingFile {
  readonly kind = 'missing-file';
  constructor(readonly path: string) {}
  toString(): string {
    return `Missing file: ${this.path}`;
  }
}

/** A file on disk is not listed in the expected digest. */
export class UnknownFile {
  readonly kind = 'unknown-file';
  constructor(readonly path: string) {}
  toString(): string {
    return `Unknown file: ${this.path}`;
  }
}

/** A file's content does not hash to the expected value (both in padded base64). */
export class HashMismatch {
  readonly kind = 'hash-mismatch';
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {}
  toString(): string {
    return `File hash mismatch for ${this.path}: expected: ${this.expected}, got: ${this.actual}`;
  }
}

export type DigestViolation = AlgorithmMismatch | MissingFile | UnknownFile | HashMismatch;

/** Files on disk do not match the expected digest; `violations` lists every difference. */
export class DigestValidationError extends Error {
  override readonly name = 'DigestValidationError';
  readonly code = 'DIGEST_MISMATCH' as const;
  constructor(readonly violations: readonly DigestViolation[]) {
    super(['kernel does not match the expected digest:', ...violations.map(String)].join('\n'));
  }
}
