import type { Signer } from '../../sigstore/verify-bundle.js';
import type { SignerCheck, SignerMemoryOptions, Warn } from './load-options.js';
import { matchesLockedIdentity, type LockedIdentity } from './lockfile.js';
import { describeSigner, recallSigner, rememberSigner, sameSigner } from './signer-memory.js';

/** What a load remembers of its signer once it has passed (stage 7, record): the first signer, or the one the user accepted (none: forget). */
export interface SignerToRemember {
  how: 'first' | 'replace';
  signer: Signer | undefined;
  /** The warning that says a change was accepted. */
  accepted?: string;
}

/** What stage 5 decides of who signed: a refusal, or what stage 7 remembers (nothing, when the memory already says so or is not asked). */
export type SignerDecision = { refused: string } | { remember?: SignerToRemember };

/**
 * Whether `signer` (null: no signature, taken with allowUnsigned) may sign this load, beyond what
 * its trust anchor checked. A lock that records identities is a second condition: the signer must
 * be one of them as well as satisfy the policy or list, and no signature is refused. Where neither
 * a list nor a lock decides (a policy alone, the default included), the first verified signer of
 * each repository is remembered (src/kernels/hub/signer-memory.ts), and another source repository,
 * or no signature where there was one, is refused until the user accepts it. Asked after the
 * signature holds, before any other file is obtained; nothing is written here.
 */
export async function checkSigner(repoId: string, signer: Signer | null, check: SignerCheck): Promise<SignerDecision> {
  if (check.identities?.length) return fromLock(repoId, signer, check.identities);
  return check.memory ? fromMemory(repoId, signer, check.memory) : {};
}

/**
 * Stage 7's part: remembers what `checkSigner` decided. A first record is written only if none is
 * yet (src/fs/atomic-write.ts writeFileOnce): of two first loads at once by different signers, the
 * one that finds the other's record is a signer change after all, and refused as such (the reason
 * returned) unless accepted.
 */
export async function recordSigner(repoId: string, remember: SignerToRemember, memory: SignerMemoryOptions, warn: Warn): Promise<string | undefined> {
  const { repoType, stateDir } = memory;
  if (remember.how === 'first') {
    if (await rememberSigner(repoId, repoType, remember.signer, 'first', stateDir)) return undefined;
    const again = await fromMemory(repoId, remember.signer ?? null, memory);
    if ('refused' in again) return again.refused;
    return again.remember ? recordSigner(repoId, again.remember, memory, warn) : undefined;
  }
  await rememberSigner(repoId, repoType, remember.signer, 'replace', stateDir);
  if (remember.accepted) warn(remember.accepted);
  return undefined;
}

function fromLock(repoId: string, signer: Signer | null, locked: readonly LockedIdentity[]): SignerDecision {
  const recorded = locked.map(describeLocked).join('; ');
  if (!signer) return { refused: `${repoId} is not signed, but the lock records who signs it: ${recorded}` };
  if (locked.some((identity) => matchesLockedIdentity(identity, signer))) return {};
  return {
    refused: `${repoId} is signed by ${describeSigner(signer)}${signer.workflow ? `, workflow ${signer.workflow}` : ''}${signer.ref ? `, ref ${signer.ref}` : ''}, none of the identities the lock records: ${recorded}`,
  };
}

async function fromMemory(repoId: string, signer: Signer | null, memory: SignerMemoryOptions): Promise<SignerDecision> {
  const remembered = await recallSigner(repoId, memory.repoType, memory.stateDir);
  if (!remembered) return signer ? { remember: { how: 'first', signer } } : {};
  if (signer && sameSigner(remembered, signer)) return {};
  const was = `${describeSigner(remembered)}, first verified here ${remembered.since}`;
  const now = signer ? `signed by ${describeSigner(signer)}` : 'not signed';
  if (!memory.acceptNewSigner) {
    return { refused: `${repoId} is ${now}, but its signer was ${was}: a signer change is refused until you accept it (--accept-new-signer, acceptNewSigner)` };
  }
  const accepted = `${repoId}: accepted a new signer: ${now} (was ${was})${signer ? '; remembered from now on' : '; no signer is remembered any more'}`;
  return { remember: { how: 'replace', signer: signer ?? undefined, accepted } };
}

/** "https://github.com/org/repo (issuer ...), workflow ..., ref ...": a locked identity in messages. */
function describeLocked(identity: LockedIdentity): string {
  return `${identity.sourceRepository ?? 'any source repository'} (issuer ${identity.issuer})${identity.workflow ? `, workflow ${identity.workflow}` : ''}${identity.ref ? `, ref ${identity.ref}` : ''}`;
}
