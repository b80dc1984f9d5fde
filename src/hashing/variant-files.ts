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

/**
 * Walks the variant at `dir`. With `withCtime`, each entry's fingerprint carries its change time
 * (what receipts record), and the walk is the digest backend's (`backend`, else the selected one): the engine looks every file up
 * in one call, across its threads, where the TypeScript walk costs a stat call (and its garbage)
 * per file on the JavaScript thread (a second load of a kernel is nearly only this walk: README.md,
 * Benchmarks, the second loads from a local Hub).
 */
export function listVariantTree(dir: string, signal?: AbortSignal, withCtime = false, backend?: DigestBackend): Promise<VariantTree> {
  return withCtime ? (backend ?? digestBackend()).walkTree(dir, { signal }) : walkTree(dir, signal);
}
