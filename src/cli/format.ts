/** Decimal units, as disk and network rates are quoted (GB/s in the benchmarks). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

/** Bytes per second as GB/s with two decimals. */
export function formatRate(bytes: number, seconds: number): string {
  return seconds > 0 ? `${(bytes / seconds / 1e9).toFixed(2)} GB/s` : '- GB/s';
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * Text from outside (file names, reasons, identities) made safe for a terminal: control
 * characters (C0, DEL, C1) and bidirectional overrides are shown escaped, so a file name can
 * neither move the cursor or recolour a line (an ESC sequence once made a ❌ display as ✅) nor
 * start a line of its own.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A message of several lines (every problem of a metadata.json, a signing refusal), each line
 * made printable: its own line breaks stay, nothing else can move the cursor.
 */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
