/**
 * The files of a variant as verification sees them, for the code outside hashing that needs the
 * list itself (receipts fingerprint it, verifyAndCopyVariant copies it, getKernel checks it for
 * bytecode): the TypeScript walker, which applies the same rules as the engine's
 * (crates/engine/src/walk.rs), and its error for a file that cannot be read.
 */
export { ioError, walkTree as listVariantTree, walkVariant as listVariantFiles } from './pure/walk.js';
