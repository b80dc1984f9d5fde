/**
 * Replaces (or adds) one member of the top-level object of a JSON text and leaves every other
 * byte as it was: numbers beyond 2^53, `1.0`, `1e400`, key order, spacing and the trailing
 * newline all survive, where a parse and re-serialisation would change them. The text must
 * already be known to be a valid JSON object (strict-json.ts); `render` writes the new value
 * given the indentation of the members ('' when the object is on one line).
 */
export function setTopLevelMember(text: string, key: string, render: (indent: string) => string): string {
  const members = topLevelMembers(text);
  const existing = members.list.find((member) => member.key === key);
  if (existing) {
    const indent = indentationBefore(text, existing.keyStart);
    return text.slice(0, existing.valueStart) + render(indent) + text.slice(existing.valueEnd);
  }
  const last = members.list[members.list.length - 1];
  if (!last) {
    // `{}` (or `{ }`): lay it out as the reference writer does.
    return `${text.slice(0, members.open + 1)}\n  ${JSON.stringify(key)}: ${render('  ')}\n${text.slice(members.close)}`;
  }
  const indent = indentationBefore(text, last.keyStart);
  const separator = indent === '' ? ',' : `,\n${indent}`;
  const colon = /"\s*:\s/.test(text.slice(last.keyStart, last.valueStart)) ? ': ' : ':';
  return `${text.slice(0, last.valueEnd)}${separator}${JSON.stringify(key)}${colon}${render(indent)}${text.slice(last.valueEnd)}`;
}

interface Member {
  key: string;
  keyStart: number;
  valueStart: number;
  valueEnd: number;
}

/** The spans of the top-level object's members (a small scanner: strings, nesting, nothing else). */
function topLevelMembers(text: string): { open: number; close: number; list: Member[] } {
  let i = skipSpace(text, 0);
  if (text[i] !== '{') throw new Error('not a JSON object');
  const open = i;
  const list: Member[] = [];
  i = skipSpace(text, i + 1);
  while (text[i] !== '}') {
    const keyStart = i;
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(keyStart, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    if (text[i] !== ':') throw new Error('not a JSON object');
    const valueStart = skipSpace(text, i + 1);
    const valueEnd = skipValue(text, valueStart);
    list.push({ key, keyStart, valueStart, valueEnd });
    i = skipSpace(text, valueEnd);
    if (text[i] === ',') i = skipSpace(text, i + 1);
    else if (text[i] !== '}') throw new Error('not a JSON object');
  }
  return { open, close: i, list };
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text[i]!)) i += 1;
  return i;
}

function skipString(text: string, i: number): number {
  if (text[i] !== '"') throw new Error('not a JSON object');
  for (i += 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === '"') return i + 1;
  }
  throw new Error('unterminated string');
}

/** The end of the value starting at `i`: a string, or anything up to its matching bracket or next delimiter. */
function skipValue(text: string, i: number): number {
  if (text[i] === '"') return skipString(text, i);
  let depth = 0;
  for (; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '"') i = skipString(text, i) - 1;
    else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') {
      if (depth === 0) return trimEnd(text, i);
      depth -= 1;
      if (depth === 0) return i + 1;
    } else if (c === ',' && depth === 0) return trimEnd(text, i);
  }
  throw new Error('not a JSON object');
}

/** A scalar ends before the space that precedes its delimiter. */
function trimEnd(text: string, i: number): number {
  while (i > 0 && ' \t\n\r'.includes(text[i - 1]!)) i -= 1;
  return i;
}

/** The whitespace at the start of the line holding `i` ('' when `i` is not first on its line). */
function indentationBefore(text: string, i: number): string {
  const lineStart = text.lastIndexOf('\n', i - 1) + 1;
  const before = text.slice(lineStart, i);
  return /^[ \t]*$/.test(before) && lineStart > 0 ? before : '';
}
