import type { DigestBackend } from './backend.js';
import { digestBackend } from './select-backend.js';
import type { VariantTree } from './tree.js';
import { walkTree } from './pure/walk.js';

/**
 * The files of a variant as verification sees them, for the code outside hashing that needs the
 * list itself (receipts fingerprint it, verifyAndCopyVariant copies it, getKernel checks it for
 * bytecode): the walk's rules (crates/engine/src/walk.rs and its twin, pure/walk.ts), and its
 * error for a file that cannot be read.
 */
export { ioError } from './pure/walk.js';

/** Walks the variant at `dir` with the TypeScript walk: fingerprints without change times. */
export function listVariantTree(dir: string, signal?: AbortSignal): Promise<VariantTree> {
  return walkTree(dir, signal);
}

/**
 * Walks the variant at `dir` with `backend`'s walk (default: the selected one), each entry's
 * fingerprint carrying its change time (what receipts record): the engine looks every file up
 * in one call, across its threads, where the TypeScript walk costs a stat call (and its garbage)
 * per file on the JavaScript thread (a second load of a kernel is nearly only this walk: README.md,
 * Benchmarks, the second loads from a local Hub).
 */
export function listVariantTreeWithCtime(dir: string, options: { backend?: DigestBackend; signal?: AbortSignal } = {}): Promise<VariantTree> {
  return (options.backend ?? digestBackend()).walkTree(dir, { signal: options.signal });
}
