/**
 * A JSON number Python writes as a float: protobuf's Struct stores numbers as doubles, so the
 * reference writes `shard_size` 1000000000 as `1000000000.0` and 1e16 as `1e+16`.
 */
export class PythonFloat {
  constructor(readonly value: number) {
    if (!Number.isInteger(value)) throw new RangeError(`only whole numbers are written as Python floats (got ${value})`);
  }

  /** JSON.stringify writes the number itself. */
  toJSON(): number {
    return this.value;
  }

  /** Python's repr() of a whole float: `8.0`, `1000000000.0`, then exponent form from 1e16. */
  toString(): string {
    const magnitude = Math.abs(this.value);
    return magnitude < 1e16 ? `${this.value}.0` : this.value.toExponential();
  }
}

/**
 * The text model_signing signs: `json_format.MessageToJson(statement)` of protobuf for Python,
 * i.e. `json.dumps(..., indent=2)` with ASCII-only output. Keys in insertion order, `": "`
 * between a key and its value, `","` at line ends, empty containers as `{}` and `[]`, no
 * trailing newline. Byte for byte what the released versions wrote (every golden payload of
 * the reference is reproduced by it).
 */
export function toPythonJSON(value: unknown, indent = ''): string {
  if (value instanceof PythonFloat) return value.toString();
  if (typeof value === 'string') return pythonString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => `${inner}${toPythonJSON(item, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([key, item]) => `${inner}${pythonString(key)}: ${toPythonJSON(item, inner)}`).join(',\n')}\n${indent}}`;
  }
  throw new TypeError(`cannot write ${typeof value} as model_signing JSON`);
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/**
 * A string as Python's json.dumps(ensure_ascii=True) writes it: the short escapes, and every
 * other character outside printable ASCII (controls, DEL, all non-ASCII) as lowercase
 * `\uXXXX` UTF-16 code units. `/` is not escaped.
 */
function pythonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const code = text.charCodeAt(i);
    if (SHORT_ESCAPES[c] !== undefined) out += SHORT_ESCAPES[c];
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}"`;
}
