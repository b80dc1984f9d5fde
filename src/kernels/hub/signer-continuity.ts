import type { KeyObject } from 'node:crypto';
import type { Signer } from '../../sigstore/verify-bundle.js';
import type { Policy } from '../../trust/policy.js';
import { matchesLockedIdentity, type KernelLock, type LockedIdentity } from './lockfile.js';
import { describeSigner, recallSigner, rememberSigner, sameSigner } from './signer-memory.js';

/** What decides who may sign a load besides its trust anchor. */
export interface SignerContinuityOptions {
  repoType?: string;
  lock?: KernelLock;
  policy?: Policy;
  key?: KeyObject | string;
  certificateChain?: string;
  /** A publisher list decides who signs: the memory is not asked. */
  publishers?: unknown;
  allowUnsigned?: boolean;
  /** Take a signer other than the one remembered for the repository (or no signature where there was one), and remember it. */
  acceptNewSigner?: boolean;
  /** The user's state folder (default src/fs/user-state.ts). */
  stateDir?: string;
}

/** What verifying the signed files of a variant gave: its signer, or the failed result. */
export type SignedOutcome = { value: { signer: Signer } } | { result: { status: string } };

/**
 * Why a load is refused for who signed it, beyond what its trust anchor checked; undefined when
 * it is not. A lock that records identities is a second condition: the signer must be one of
 * them as well as satisfy the policy or list, and no signature is refused. Where neither a list nor a lock decides (a policy alone, the default included), the
 * first verified signer of each repository is remembered, and another source repository, or no
 * signature where there was one (allowUnsigned), is refused until the user accepts it
 * (src/kernels/hub/signer-memory.ts). A failed verification is left to its own refusal.
 */
export async function signerChangeRefusal(repoId: string, signed: SignedOutcome, options: SignerContinuityOptions, warn: (message: string) => void): Promise<string | undefined> {
  const signer = 'value' in signed ? signed.value.signer : signed.result.status === 'signature-missing' && options.allowUnsigned ? null : undefined;
  if (signer === undefined) return undefined;
  const locked = options.lock?.identities;
  if (locked?.length) {
    const recorded = locked.map(describeLocked).join('; ');
    if (!signer) return `${repoId} is not signed, but the lock records who signs it: ${recorded}`;
    if (locked.some((identity) => matchesLockedIdentity(identity, signer))) return undefined;
    return `${repoId} is signed by ${describeSigner(signer)}${signer.workflow ? `, workflow ${signer.workflow}` : ''}${signer.ref ? `, ref ${signer.ref}` : ''}, none of the identities the lock records: ${recorded}`;
  }
  if (options.publishers !== undefined || options.lock || options.key !== undefined || options.certificateChain !== undefined) return undefined;

  const repoType = options.repoType ?? 'kernel';
  let remembered = await recallSigner(repoId, repoType, options.stateDir);
  if (!remembered) {
    // The first signer seen, unless another load remembered one meanwhile: then compare with it.
    if (!signer || (await rememberSigner(repoId, repoType, signer, 'first', options.stateDir))) return undefined;
    remembered = await recallSigner(repoId, repoType, options.stateDir);
    if (!remembered) return undefined;
  }
  if (signer && sameSigner(remembered, signer)) return undefined;
  const was = `${describeSigner(remembered)}, first verified here ${remembered.since}`;
  const now = signer ? `signed by ${describeSigner(signer)}` : 'not signed';
  if (!options.acceptNewSigner) {
    return `${repoId} is ${now}, but its signer was ${was}: a signer change is refused until you accept it (--accept-new-signer, acceptNewSigner)`;
  }
  await rememberSigner(repoId, repoType, signer ?? undefined, 'replace', options.stateDir);
  warn(`${repoId}: accepted a new signer: ${now} (was ${was})${signer ? '; remembered from now on' : '; no signer is remembered any more'}`);
  return undefined;
}

/** "https://github.com/org/repo (issuer ...), workflow ..., ref ...": a locked identity in messages. */
function describeLocked(identity: LockedIdentity): string {
  return `${identity.sourceRepository ?? 'any source repository'} (issuer ${identity.issuer})${identity.workflow ? `, workflow ${identity.workflow}` : ''}${identity.ref ? `, ref ${identity.ref}` : ''}`;
}
