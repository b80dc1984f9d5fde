import { isJSONObject } from '../json/json-object.js';
import { StrictJSONError, parseStrictJSON } from '../json/strict-json.js';
import { IN_TOTO_PAYLOAD_TYPE } from './dsse.js';

/** The in-toto statement type kernelseal writes (v1; every reader takes it). */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/** The statement types read: v1, and v0.1, which older attestations carry (npm's SLSA v0.2 ones). */
export const IN_TOTO_STATEMENT_TYPES: readonly string[] = ['https://in-toto.io/Statement/v0.1', IN_TOTO_STATEMENT_V1];

/**
 * The in-toto statement a DSSE envelope carries, read the one strict way: the payload type
 * in-toto's, the payload strict JSON (src/json/strict-json.ts), an object, its `_type` one of
 * `types`; or why it is none. Its other members are the caller's to check (subjects, predicate).
 * Only read what a verified signature covers, or hand it on to be judged after one (a policy).
 */
export function readInTotoStatement(
  payloadType: string,
  payload: Uint8Array,
  types: readonly string[] = IN_TOTO_STATEMENT_TYPES,
): { statement: Record<string, unknown> } | { reason: string } {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) return { reason: `the DSSE payload type is ${JSON.stringify(payloadType)}, not an in-toto statement` };
  let statement: unknown;
  try {
    statement = parseStrictJSON(payload);
  } catch (error) {
    if (!(error instanceof StrictJSONError)) throw error;
    return { reason: `the in-toto statement: ${error.message}` };
  }
  if (!isJSONObject(statement)) return { reason: 'the in-toto statement is not a JSON object' };
  if (typeof statement._type !== 'string' || !types.includes(statement._type)) return { reason: `unsupported in-toto statement type ${JSON.stringify(statement._type)}` };
  return { statement };
}
