/**
 * JSON.stringify with one difference: a Map is written as an object with its entries in Map
 * order (plain objects put integer-like keys first, which would break byte-ordered digest
 * files). `space` 2 gives the layout of the reference writer (`kernel-builder hash`) and of
 * JSON.stringify(value, null, 2); `space` 0 gives compact JSON.
 */
export function stringifyOrdered(value: unknown, space: 0 | 2 = 2): string {
  return write(value, space === 0 ? undefined : '');
}

/** `indent` is the current indentation, or undefined for compact output. */
function write(value: unknown, indent: string | undefined): string {
  if (value instanceof Map) {
    return object([...value.entries()].map(([key, item]) => [String(key), item]), indent);
  }
  if (Array.isArray(value)) {
    return container('[', ']', value.map((item) => (inner) => write(item === undefined ? null : item, inner)), indent);
  }
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    return object(Object.entries(value), indent);
  }
  return JSON.stringify(value) ?? 'null';
}

function object(entries: Array<[string, unknown]>, indent: string | undefined): string {
  const kept = entries.filter(([, item]) => item !== undefined && typeof item !== 'function');
  const colon = indent === undefined ? ':' : ': ';
  return container('{', '}', kept.map(([key, item]) => (inner) => `${JSON.stringify(key)}${colon}${write(item, inner)}`), indent);
}

function container(open: string, close: string, items: Array<(inner: string | undefined) => string>, indent: string | undefined): string {
  if (items.length === 0) return `${open}${close}`;
  if (indent === undefined) return `${open}${items.map((item) => item(undefined)).join(',')}${close}`;
  const inner = `${indent}  `;
  return `${open}\n${items.map((item) => `${inner}${item(inner)}`).join(',\n')}\n${indent}${close}`;
}
