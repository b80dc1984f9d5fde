import { readBounded, type Read } from '../fs/read-bounded.js';
import { duplicateKey } from './duplicate-keys.js';
import { isJSONObject } from './json-object.js';

/** Input that is not strict JSON; `kind` says why, `detail` the parser's words or the key. */
export class StrictJSONError extends Error {
  override readonly name = 'StrictJSONError';
  constructor(
    readonly kind: 'utf8' | 'syntax' | 'duplicate-key',
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(
      kind === 'utf8'
        ? 'not valid UTF-8'
        : kind === 'syntax'
          ? `not valid JSON: ${detail}`
          : `duplicate key ${JSON.stringify(detail)}: its meaning would depend on the parser`,
      options,
    );
  }
}

/**
 * Parses signed or untrusted JSON the one strict way: bytes must be UTF-8 (no replacement
 * characters slipped in), the text JSON, and no object may repeat a key (JSON.parse keeps the
 * last of two, other parsers the first: signed JSON could mean two things).
 *
 * It throws StrictJSONError, or with `refuse` the error `refuse` makes of it: the reader's own
 * class, which names the file (only a StrictJSONError is turned: a reader that wrapped any
 * error would turn a bug into a verdict, docs/architecture.md "Errors").
 */
export function parseStrictJSON(input: Uint8Array | string, refuse?: (error: StrictJSONError) => Error): unknown {
  try {
    return parse(input);
  } catch (error) {
    if (refuse && error instanceof StrictJSONError) throw refuse(error);
    throw error;
  }
}

function parse(input: Uint8Array | string): unknown {
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch (error) {
    throw new StrictJSONError('utf8', (error as Error).message, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StrictJSONError('syntax', (error as Error).message, { cause: error });
  }
  const repeated = duplicateKey(text);
  if (repeated !== undefined) throw new StrictJSONError('duplicate-key', repeated);
  return value;
}

/**
 * A JSON file the user names (a policy, a signing config, a predicate, ...), read as every
 * such file is: whole but bounded, refusing a FIFO or a device planted under its name
 * (src/fs/read-bounded.ts), then strict JSON. Every failure is `refuse(message)`, the message
 * naming the file: the reader's own error class.
 */
export async function readStrictJSONFile(path: string, limit: number, refuse: (message: string, cause?: Error) => Error): Promise<unknown> {
  const read = await readBounded(path, limit);
  if ('missing' in read) throw refuse(`${path}: not found`);
  if ('error' in read) throw refuse(read.error);
  return parseStrictJSON(read.bytes, (error) => refuse(`${path}: ${error.message}`, error));
}

/**
 * A record a program keeps for itself (the user's state: src/fs/user-state.ts): a bounded read of
 * a regular file, then strict JSON that must be an object. A file that is not there, and the
 * file's faults, are answers (`missing`, `error` with the reason), for the caller to make its
 * verdict of; a bug propagates.
 */
export async function readStrictJSONObject(path: string, limit: number): Promise<JSONObjectRead> {
  return strictJSONObjectOf(await readBounded(path, limit));
}

/** A JSON object file as read (missing, unreadable), or its strict parse. */
export type JSONObjectRead = { missing: true } | { record: Record<string, unknown> } | { error: string };

/** What readStrictJSONObject makes of a bounded read (readBounded, or readBoundedSync). */
export function strictJSONObjectOf(read: Read): JSONObjectRead {
  if (!('bytes' in read)) return read;
  let record: unknown;
  try {
    record = parseStrictJSON(read.bytes);
  } catch (error) {
    if (!(error instanceof StrictJSONError)) throw error;
    return { error: error.message };
  }
  return isJSONObject(record) ? { record } : { error: 'not a JSON object' };
}
