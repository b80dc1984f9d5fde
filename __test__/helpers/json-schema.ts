// A small JSON Schema (2020-12) validator: the keywords docs/output.schema.json uses, and no
// others (an unknown keyword is an error, so the schema cannot say more than is checked).

type Schema = boolean | { [keyword: string]: unknown };

const KEYWORDS = new Set([
  '$schema', '$id', 'title', 'description', '$defs',
  '$ref', 'type', 'const', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'minItems',
  'minimum', 'pattern', 'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else',
]);

/** The errors of `value` against `schema` (empty when it is valid), each with its JSON pointer. */
export function validate(value: unknown, root: Schema): string[] {
  const errors: string[] = [];
  check(value, root, root, '', errors);
  return errors;
}

function check(value: unknown, schema: Schema, root: Schema, at: string, errors: string[]): void {
  if (schema === true) return;
  if (schema === false) return void errors.push(`${at}: nothing is allowed here`);
  for (const keyword of Object.keys(schema)) if (!KEYWORDS.has(keyword)) throw new Error(`the validator does not know ${keyword} (at ${at})`);
  const s = schema as Record<string, unknown>;
  if (s.$ref !== undefined) check(value, resolve(root, s.$ref as string), root, at, errors);
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((type) => hasType(value, type))) errors.push(`${at}: ${JSON.stringify(value)?.slice(0, 80)} is not ${types.join(' or ')}`);
  }
  if ('const' in s && !equal(value, s.const)) errors.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(s.const)}`);
  if (s.enum !== undefined && !(s.enum as unknown[]).some((option) => equal(value, option))) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  if (typeof value === 'number' && typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: ${value} < ${s.minimum}`);
  if (typeof value === 'string' && typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${at}: ${JSON.stringify(value)} does not match ${s.pattern}`);
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) errors.push(`${at}: fewer than ${s.minItems} items`);
    if (s.items !== undefined) value.forEach((item, i) => check(item, s.items as Schema, root, `${at}/${i}`, errors));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const key of (s.required as string[] | undefined) ?? []) if (!(key in object)) errors.push(`${at}: ${key} is missing`);
    const properties = (s.properties as Record<string, Schema> | undefined) ?? {};
    for (const [key, item] of Object.entries(object)) {
      if (key in properties) check(item, properties[key]!, root, `${at}/${key}`, errors);
      else if (s.additionalProperties !== undefined) check(item, s.additionalProperties as Schema, root, `${at}/${key}`, errors);
    }
  }
  for (const part of (s.allOf as Schema[] | undefined) ?? []) check(value, part, root, at, errors);
  if (s.anyOf !== undefined && !(s.anyOf as Schema[]).some((part) => validateAt(value, part, root, at).length === 0)) errors.push(`${at}: matches none of anyOf`);
  if (s.oneOf !== undefined) {
    const matches = (s.oneOf as Schema[]).filter((part) => validateAt(value, part, root, at).length === 0).length;
    if (matches !== 1) errors.push(`${at}: matches ${matches} of oneOf, not exactly one`);
  }
  if (s.not !== undefined && validateAt(value, s.not as Schema, root, at).length === 0) errors.push(`${at}: matches what "not" forbids`);
  if (s.if !== undefined) {
    const branch = validateAt(value, s.if as Schema, root, at).length === 0 ? s.then : s.else;
    if (branch !== undefined) check(value, branch as Schema, root, at, errors);
  }
}

function validateAt(value: unknown, schema: Schema, root: Schema, at: string): string[] {
  const errors: string[] = [];
  check(value, schema, root, at, errors);
  return errors;
}

/** A local reference: `#/$defs/name/...`. */
function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`only local references: ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (node === undefined) throw new Error(`${ref} points nowhere`);
  }
  return node as Schema;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
