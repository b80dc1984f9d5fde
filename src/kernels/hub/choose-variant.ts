import { backendsFitting, selectVariant } from '../variant-name.js';
import { LockfileError } from './lockfile.js';
import type { SelectOptions } from './load-options.js';
import { KernelRefusedError } from './load-outcome.js';
import type { ResolvedRevision } from './resolve-revision.js';

/** What stage 3 establishes: the variant, and the hash a lock pins it to. */
export interface ChosenVariant {
  variant: string;
  /** The lock's `git_lfs_concat` hash of the variant (src/kernels/hub/lockfile.ts), when a lock is given. */
  lockHash?: string;
}

/**
 * Stage 3, select: the variant named, or the one that best fits the selector (this machine), among
 * those of the resolved revision. A GPU backend is never guessed (a CUDA build on a CPU-only
 * machine): when the variants that fit span several, the caller must say which. Under a lock,
 * the lock must name the variant.
 */
export function chooseVariant(repoId: string, resolved: Pick<ResolvedRevision, 'revision' | 'variants'>, options: SelectOptions): ChosenVariant {
  const { revision, variants } = resolved;
  const { selector } = options;
  const backends = options.variant || selector.backend ? [] : backendsFitting(variants, selector);
  if (backends.length > 1) {
    throw new KernelRefusedError(`${repoId}@${revision}: built for ${backends.join(', ')}: say which backend (selector.backend, --backend; with --backend-version for a GPU)`);
  }
  const variant = options.variant ?? selectVariant(variants, selector);
  if (!variant || !variants.includes(variant)) {
    // Names come from the Hub or the cache: quoted, so none can pose as a line of output.
    const named = [...variants].sort().map((name) => (/^[\w.+-]+$/.test(name) ? name : JSON.stringify(name)));
    throw new KernelRefusedError(`${repoId}@${revision}: no variant ${variant === undefined ? 'fits' : JSON.stringify(variant)}; available: ${named.join(', ') || 'none'}`);
  }
  if (!options.lock) return { variant };
  const lockHash = options.lock.variants[variant]?.hash;
  if (!lockHash) throw new LockfileError(`${repoId}: the lock has no variant ${variant}`);
  return { variant, lockHash };
}
