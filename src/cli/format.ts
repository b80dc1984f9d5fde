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
