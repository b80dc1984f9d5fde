import { type HashProgress, envFlag } from './library/hashing.js';
import { formatBytes, formatRate } from './format.js';

/** Shown only after this long, so quick runs print nothing extra. */
const DELAY_MS = 300;

/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal, not in CI, not with
 * --quiet and not when HF_HUB_DISABLE_PROGRESS_BARS is set (as huggingface_hub reads it). It
 * moves the cursor and never colours (NO_COLOR has nothing to turn off). `update` is cheap to
 * call often; `clear` removes the line before the result is printed.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private drawn = false;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    options: { quiet?: boolean } = {},
    private readonly stream: Pick<NodeJS.WriteStream, 'isTTY' | 'columns' | 'write'> = process.stderr,
  ) {
    this.enabled = stream.isTTY === true && !process.env.CI && !options.quiet && !envFlag('HF_HUB_DISABLE_PROGRESS_BARS');
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
