import { duplicateKey } from './duplicate-keys.js';

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
 */
export function parseStrictJSON(input: Uint8Array | string): unknown {
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
