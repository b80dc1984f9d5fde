import { existsSync } from 'node:fs';
import type { TestContext } from 'vitest';

/**
 * What a test may need that not every platform CI runs on has (.github/workflows/ci.yml runs
 * Linux and macOS). A test that needs one says so with `skipUnless`; a measurement that only
 * part of a test needs comes from `PROBES`, which answer null where the platform cannot.
 */

/** Linux's per-process files: /proc/self/status (threads, peak memory), /proc/self/io (bytes read). */
export const PROC = existsSync('/proc/self/status');
/** Where the engine may map files (KERNELSEAL_MMAP=1): crates/engine/src/lib.rs picks mapped.rs there. */
export const MAPPED_READS = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');

/**
 * Skips the running test where `available` is false, saying why, so that a check that did not
 * run never reads as one that passed: the reason is the skip's note (verbose reporter) and a
 * line on stderr (every reporter).
 */
export function skipUnless(ctx: TestContext, available: boolean, reason: string): void {
  if (available) return;
  console.warn(`skipped on ${process.platform}: ${reason}`);
  ctx.skip(reason);
}

/**
 * JavaScript for a child process's script (`runNode`): `threads()`, the process's threads, and
 * `peakRssMiB()`, its peak resident memory (VmHWM: getrusage's maxrss in a child starts at its
 * parent's). Both read /proc/self/status and answer null where there is none.
 */
export const PROBES = `
  const procStatus = (field) => {
    try { return Number(new RegExp(field + ':\\\\s+(\\\\d+)').exec((process.getBuiltinModule('node:fs')).readFileSync('/proc/self/status', 'utf8'))[1]); }
    catch { return null; }
  };
  const threads = () => procStatus('Threads');
  const peakRssMiB = () => { const kib = procStatus('VmHWM'); return kib === null ? null : kib / 1024; };
`;

/** Says, in the test output, that a part of a test did not run here, and why. */
export function notChecked(what: string, reason: string): void {
  console.warn(`not checked on ${process.platform}: ${what}: ${reason}`);
}
