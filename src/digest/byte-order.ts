/**
 * Compares strings by their UTF-8 bytes, the order of digest keys (docs/design.md section 4).
 * JavaScript's `<` compares UTF-16 code units, which puts U+E000..U+FFFF after astral
 * characters; code point order is UTF-8 byte order.
 */
export function compareByteOrder(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only when both are in the surrogate/BMP-high overlap does UTF-16 order differ.
    if (x >= 0xd800 && y >= 0xd800) {
      return (a.codePointAt(i) ?? x) - (b.codePointAt(i) ?? y);
    }
    return x - y;
  }
  return a.length - b.length;
}
