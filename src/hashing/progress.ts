/** Minimum time between two progress reports, in both backends. */
export const PROGRESS_INTERVAL_MS = 100;
