/** Why hashing could not produce a digest; the same codes in the native and pure backends. */
export type DigestErrorCode =
  | 'NOT_FOUND'
  | 'NOT_A_DIRECTORY'
  | 'NOT_A_REGULAR_FILE'
  | 'DANGLING_SYMLINK'
  | 'INVALID_NAME'
  | 'FILE_CHANGED'
  | 'TOO_MANY_SHARDS'
  | 'IO';

/** Hashing failed on a file: `path` names it, `reason` says why. */
export class DigestError extends Error {
  override readonly name = 'DigestError';
  constructor(
    readonly code: DigestErrorCode,
    readonly path: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${reason}`, options);
  }
}
