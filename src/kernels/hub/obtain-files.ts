import type { Digest } from '../../digest/digest.js';
import type { VariantTree } from '../../hashing/tree.js';
import { sortUnhashed } from '../../hashing/unhashed-entries.js';
import { listVariantTreeWithCtime } from '../../hashing/variant-files.js';
import { verifyFiles } from '../verify-variant.js';
import type { HubCache } from './cache.js';
import type { VariantFiles } from './fetch-files.js';
import type { HubFile } from './hub-client.js';
import type { HashingOptions } from './load-options.js';
import { refusal, type LoadedVariant } from './load-outcome.js';
import { fingerprint, type ReceiptLines } from './receipts.js';
import type { SkipHashing } from './skip-hashing.js';

/**
 * How stage 6 obtained the verified files: a receipt vouched for them (`vouched`), they were
 * hashed as they streamed in (`streamed`), or they were hashed in full (`hashed`); with the
 * fingerprint stage 7 records in a receipt (none when the files moved while they were hashed).
 */
export type Obtained = { how: 'vouched' } | { how: 'streamed' | 'hashed'; record?: ReceiptLines };

/** What stage 6 works with: the load's downloads, its one answer to "may this skip hashing?", the cache and the hashing backend. */
export interface ObtainContext {
  files: VariantFiles;
  skip: SkipHashing;
  cache: HubCache;
  hashing: HashingOptions;
}

/**
 * Stage 6, obtain files: the rest of a signed variant (`rest`, online), each file checked against
 * the signed digest as it streams in, then the variant as the cache holds it: vouched for, or
 * hashed in full against the digest (src/kernels/verify-variant.ts verifyFiles).
 */
export async function obtainFiles(kernel: LoadedVariant, digest: Digest, rest: HubFile[], context: ObtainContext): Promise<Obtained> {
  const { files, skip, cache, hashing } = context;
  // Online, a receipt that holds for the variant as the cache has it already makes the rest of
  // the download moot: the same check as below (and offline), asked before the files are checked
  // for being in place one by one. The receipt binds the commit, so the files it vouches for are
  // the ones the listing names.
  if (rest.length > 0) {
    const early = (await cleanWalk(kernel.path, cache, hashing)).clean;
    if (early && (await skip.ask(kernel.path, early.entries, digest))?.by === 'receipt') {
      files.skip(rest.length);
      return { how: 'vouched' };
    }
  }
  await files.fetch(rest, { digest, onStreamed: (blob) => skip.streamedIn(blob) });
  const { tree, clean } = await cleanWalk(kernel.path, cache, hashing);
  const waived = clean && (await skip.ask(kernel.path, clean.entries, digest));
  if (waived) return waived.by === 'receipt' ? { how: 'vouched' } : { how: 'streamed', record: waived.fingerprint };
  return hashInFull(kernel, digest, tree, context);
}

/** Stage 6 for a variant taken unsigned (allowUnsigned): the rest downloaded, each file checked to be the object the listing names. */
export function obtainUnsigned(files: VariantFiles, rest: HubFile[]): Promise<void> {
  return files.fetch(rest);
}

/**
 * The variant walked once for the bytecode check, the receipt, the streamed blobs and the
 * fingerprint before hashing. Bytecode (Python writes __pycache__ here on import; anyone sharing
 * the cache could plant some) is removed first, through the folders this load holds: Python
 * rebuilds it from the verified sources. Any other entry the digest leaves out makes the walk
 * unclean: nothing vouches for it, and the full check refuses it.
 */
async function cleanWalk(path: string, cache: HubCache, { backend }: HashingOptions): Promise<{ tree?: VariantTree; clean?: VariantTree }> {
  const tree = await listVariantTreeWithCtime(path, { backend }).catch(() => undefined);
  const { bytecode, refused } = sortUnhashed(tree?.unhashed ?? []);
  await cache.removeBytecode(path, bytecode);
  return { tree, clean: tree && refused.length === 0 ? tree : undefined };
}

/**
 * Every file hashed against the signed digest. Bytecode in the cache is removed once all else
 * verified, as the walk removes it, through the folders this load holds (never by a path a link
 * could redirect). Only files that did not move while they were hashed earn a receipt.
 */
async function hashInFull(kernel: LoadedVariant, digest: Digest, tree: VariantTree | undefined, { cache, hashing }: ObtainContext): Promise<Obtained> {
  const { path } = kernel;
  const before = await fingerprint(path, tree?.entries, hashing.backend);
  const files = await verifyFiles(path, digest, { ...hashing, bytecode: 'allow' });
  if ('result' in files) throw refusal(kernel, files.result, false);
  if (files.value.bytecode) await cache.removeBytecode(path, files.value.bytecode.paths);
  const after = await fingerprint(path, undefined, hashing.backend);
  return { how: 'hashed', ...(JSON.stringify(before) === JSON.stringify(after) ? { record: after } : {}) };
}
