import { join } from 'node:path';
import { HubCache } from './cache.js';
import { chooseVariant } from './choose-variant.js';
import { fetchSignedFiles, VariantFiles } from './fetch-files.js';
import { isRepoId } from '../../repo-id.js';
import { cacheOptionsOf, resolveOptionsOf, splitOptions, type CacheOptions, type GetKernelOptions, type LoadOptions } from './load-options.js';
import { refusal, type FetchedKernel, type LoadedVariant, type RevisionSource } from './load-outcome.js';
import { obtainFiles, obtainUnsigned, type Obtained } from './obtain-files.js';
import { resolveRevision } from './resolve-revision.js';
import { recordSigner, type SignerToRemember } from './signer-continuity.js';
import { SkipHashing } from './skip-hashing.js';
import { openTrust } from './open-trust.js';
import { verifyTrust } from './verify-trust.js';

/**
 * Fetches a kernel variant from the Hub and hands it back only if it verifies: resolves the
 * revision (`v<version>` or any ref or commit; a lock pins the commit), picks the variant,
 * downloads only `build/<variant>/**` (no `*.pyc`, no `__pycache__`) into the Hugging Face
 * cache with resumed, parallel, size- and content-checked transfers, then verifies it with
 * the policy (default: kernels-community). A receipt from an earlier verification of the same
 * files lets a later load skip re-hashing; the signature is always checked.
 *
 * A repository id that is not `<owner>/<name>` is the caller's mistake: a TypeError.
 */
export async function getKernel(repoId: string, options: GetKernelOptions = {}): Promise<FetchedKernel> {
  if (!isRepoId(repoId)) throw new TypeError(`not a repository id: ${JSON.stringify(repoId)}`);
  const stages = splitOptions(repoId, options);
  const cache = openCache(repoId, stages.cache);
  try {
    return await load(repoId, stages, cache);
  } finally {
    await cache.close(); // the folders this load wrote through, held open for it (src/fs/write-inside.ts)
  }
}

/**
 * A load, stage by stage (docs/architecture.md, "A load from the Hub"): 1 trust (a publisher
 * list opened; under the default policy, the Hub's publisher flag read) → 2 resolve (revision,
 * lock) → 3 select (the variant for this machine) → 4 fetch the signed files → 5 verify signature
 * and trust (and who signed: a lock's identities, the signer remembered) → 6 obtain the files
 * (vouched, stream-verified or fully verified) → 7 record (the signer, the receipt).
 */
async function load(repoId: string, stages: LoadOptions, cache: HubCache): Promise<FetchedKernel> {
  const anchor = await openTrust(repoId, stages.trust, stages.warn);
  const resolved = await resolveRevision(repoId, stages.resolve, cache);
  const { variant, lockHash } = chooseVariant(repoId, resolved, stages.select);
  const { revision, commit, revisionSource, listing } = resolved;
  const kernel: LoadedVariant = { repoId, revision, commit, variant, path: join(cache.snapshotDir(commit), 'build', variant), revisionSource };
  const files = new VariantFiles(kernel, cache, stages.transfer, lockHash !== undefined);
  const rest = await fetchSignedFiles(files, listing, lockHash);
  const trusted = await verifyTrust(kernel, anchor, stages.verify, { hash: lockHash, checkedOnline: listing !== undefined }, cache);
  const { remember } = trusted;
  if ('unsigned' in trusted) {
    await obtainUnsigned(files, rest);
    stages.warn(`${repoId}@${commit} ${variant} is NOT SIGNED: loading it anyway because allowUnsigned is set; nothing vouches for this code`);
    await record(kernel, cache, stages, { remember });
    return { ...kernel, verified: false, fromReceipt: false };
  }
  const { signer, metadata, digest, metadataBytes, sourceNotCompared } = trusted.signed;
  const skip = await SkipHashing.open(cache, { repoId, commit, variant, metadataBytes }, stages.warn);
  const obtained = await obtainFiles(kernel, digest, rest, { files, skip, cache, hashing: stages.hashing });
  await record(kernel, cache, stages, { remember, obtained, skip });
  return { ...kernel, verified: true, signer, metadata, digest, fromReceipt: obtained.how === 'vouched', ...(sourceNotCompared ? { sourceNotCompared } : {}) };
}

/** What a load that passed leaves to record: its signer to remember, and how its files were obtained. */
interface ToRecord {
  remember?: SignerToRemember;
  obtained?: Obtained;
  skip?: SkipHashing;
}

/**
 * Stage 7, record: the signer remembered for the repository (the first, or one the user accepted:
 * src/kernels/hub/signer-continuity.ts; of two first loads at once by different signers, the one
 * that finds the other's record is refused here), the files placed written out to disk, the
 * receipt of files verified by hashing (a later load skips it), then the variant's folder checked again: still the folder verified, reached
 * through real folders only.
 */
async function record(kernel: LoadedVariant, cache: HubCache, stages: LoadOptions, { remember, obtained, skip }: ToRecord): Promise<void> {
  const { memory } = stages.verify.signers;
  const changed = remember && memory && (await recordSigner(kernel.repoId, remember, memory, stages.warn));
  if (changed) throw refusal(kernel, { path: kernel.path, status: 'signature-invalid', reason: changed });
  const receipt = obtained && 'record' in obtained ? obtained.record : undefined;
  // What this load placed, and what the receipt will vouch for, on disk first.
  await cache.makeDurable(receipt?.map(([key]) => join(kernel.path, key)));
  if (receipt) await skip?.record(kernel.path, receipt);
  await cache.realFolder(kernel.path);
}

/** The cache of `repoId` a load reads and writes. */
function openCache(repoId: string, options: CacheOptions): HubCache {
  return new HubCache(options.root, repoId, options.repoType);
}

/** The variants of a kernel at a revision (`version` or `revision`, as getKernel resolves them). */
export async function listVariants(repoId: string, options: GetKernelOptions = {}): Promise<{ revision: string; commit: string; variants: string[]; revisionSource: RevisionSource }> {
  if (!isRepoId(repoId)) throw new TypeError(`not a repository id: ${JSON.stringify(repoId)}`);
  const cache = openCache(repoId, cacheOptionsOf(options));
  try {
    const { revision, commit, variants, revisionSource } = await resolveRevision(repoId, resolveOptionsOf(options), cache);
    return { revision, commit, variants, revisionSource };
  } finally {
    await cache.close(); // the folders the ref was written through
  }
}
