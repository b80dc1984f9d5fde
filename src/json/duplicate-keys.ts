/**
 * The first key that appears twice in one object of a JSON text, if any. JSON.parse keeps the
 * last of two equal keys, other parsers the first: signed JSON with duplicates could mean one
 * thing to kernelseal and another to a different verifier, so it is refused. `text` must
 * already have parsed as JSON. Iterative: deep nesting cannot overflow the stack.
 */
export function duplicateKey(text: string): string | undefined {
  const objects: Array<Set<string> | undefined> = []; // undefined for arrays
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i + 1;
      while (text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c /* \ */ ? 2 : 1;
      if (expectKey) {
        // A key without escapes is its own text (the text parsed: no raw control characters).
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        const keys = objects[objects.length - 1]!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      objects.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      objects.push(undefined);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      objects.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = objects[objects.length - 1] !== undefined;
    }
  }
  return undefined;
}
