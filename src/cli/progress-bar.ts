import type { HashProgress } from '../hashing/backend.js';
import { formatBytes, formatRate } from './format.js';

/** Shown only after this long, so quick runs print nothing extra. */
const DELAY_MS = 300;

/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal. `update` is cheap to
 * call often; `clear` removes the line before the result is printed.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private drawn = false;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = stream.isTTY === true && !process.env.CI;
  }

  update(progress: HashProgress): void {
    if (!this.enabled) return;
    const elapsed = (performance.now() - this.started) / 1000;
    if (elapsed * 1000 < DELAY_MS) return;
    const fraction = progress.bytesTotal > 0 ? progress.bytesDone / progress.bytesTotal : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    const line =
      `${this.label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
      `${formatBytes(progress.bytesDone)}/${formatBytes(progress.bytesTotal)} ` +
      `${progress.filesDone}/${progress.filesTotal} files ${formatRate(progress.bytesDone, elapsed)}`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 100) - 1)}\x1b[K`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
