/**
 * Whether parsed JSON is an object: `typeof` says 'object' for null and arrays too, and a
 * reader that takes either for an object reads members that are not there, or throws a
 * TypeError on null: a bug where the file deserved a reason.
 */
export function isJSONObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
