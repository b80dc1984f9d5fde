import type { HashProgress } from './backend.js';

/** Minimum time between two progress reports. */
export const PROGRESS_INTERVAL_MS = 100;

/** Counts work done and reports it at most every PROGRESS_INTERVAL_MS, and once at the end. */
export class ProgressReporter {
  bytesDone = 0;
  filesDone = 0;
  private last = performance.now();

  constructor(
    private readonly onProgress: ((progress: HashProgress) => void) | undefined,
    private readonly totals: { bytesTotal: number; filesTotal: number },
  ) {}

  addBytes(bytes: number): void {
    this.bytesDone += bytes;
    this.maybeReport();
  }

  fileDone(): void {
    this.filesDone += 1;
    this.maybeReport();
  }

  /** The last report: everything done. */
  finish(): void {
    this.report();
  }

  private maybeReport(): void {
    if (!this.onProgress) return;
    const now = performance.now();
    if (now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    this.report();
  }

  private report(): void {
    this.onProgress?.({ bytesDone: this.bytesDone, filesDone: this.filesDone, ...this.totals });
  }
}
