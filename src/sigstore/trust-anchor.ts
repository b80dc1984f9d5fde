import type { KeyObject } from 'node:crypto';
import type { Policy } from '../trust/policy.js';
import type { PublisherList } from '../trust/publisher-list.js';
import type { StringMatch } from '../trust/string-match.js';

// The one home of the trust-anchor rules every verifier follows (bundles, kernels, models, the
// CLI): exactly one kind of trust, which kind of signature each kind accepts, and when the
// transparency log may be waived. Verifiers ask here and dispatch on the answer.

/**
 * Who is trusted, never nobody: keyless signers satisfying a policy; keyless signers a trusted
 * publisher list trusts for one Hub repository (docs/publishers.md); one managed key; or the
 * certificates of a private CA (PEM chain, leaf-most first, root last), optionally for one
 * identity. `insecureIgnoreTlog` (cosign's --insecure-ignore-tlog) accepts a signature without a
 * transparency log entry, for key and private-CA trust only (see tlogWaived).
 */
export type TrustAnchor = (
  | { policy: Policy }
  | { publishers: PublisherTrust }
  | { key: KeyObject | string; validFor?: KeyValidity }
  | { certificateChain: string; identity?: StringMatch }
) & { insecureIgnoreTlog?: boolean };

/**
 * A publisher list deciding for one Hub repository: `repoId` is the name the user asked for
 * (`org/name`); the list's entries for it decide who may sign (src/trust/publisher-list.ts).
 */
export interface PublisherTrust {
  list: PublisherList;
  repoId: string;
}

/** When a key may sign: every verified time of a signature must fall in it (end open when absent). */
export interface KeyValidity {
  start: Date;
  end?: Date;
}

export type AnchorKind = 'policy' | 'publishers' | 'key' | 'certificateChain';

type AnchorFields = Partial<{ policy: unknown; publishers: unknown; key: unknown; certificateChain: unknown; insecureIgnoreTlog: unknown }>;

/**
 * Which kind of trust `anchor` names. Throws a TypeError unless it names exactly one: options
 * that carry a policy and a key (or a CA chain) are ambiguous, and silently dropping one would
 * verify against something the caller did not mean. A policy trusts Fulcio certificates, which
 * live ten minutes and are only worth anything with the log entry that says when they signed:
 * waiving the log with a policy is refused too. A caller's mistake, never a verdict.
 */
export function checkTrustAnchor(anchor: AnchorFields): AnchorKind {
  const given = (['policy', 'publishers', 'key', 'certificateChain'] as const).filter((name) => anchor[name] !== undefined && anchor[name] !== null);
  if (given.length === 0) throw new TypeError('verification needs a policy (who is trusted), a publisher list, a key or a CA chain: there is no default that trusts anyone');
  if (given.length > 1) throw new TypeError(`ambiguous trust: ${given.join(' and ')} given together; give exactly one`);
  if (anchor.insecureIgnoreTlog === true && !mayWaiveTlog(given[0]!)) {
    throw new TypeError('insecureIgnoreTlog works only with a key or a private CA chain: a policy or a publisher list trusts Fulcio (public-good) certificates, which are worth nothing without their transparency log entry');
  }
  if (given[0] === 'publishers') checkPublisherTrust(anchor.publishers);
  return given[0]!;
}

function checkPublisherTrust(trust: unknown): void {
  const { list, repoId } = (trust ?? {}) as Partial<PublisherTrust>;
  if (!Array.isArray(list?.entries) || typeof list.source !== 'string') throw new TypeError('publishers.list must be a publisher list (openPublisherList, parsePublisherList)');
  if (typeof repoId !== 'string') throw new TypeError('publishers.repoId must name the Hub repository ("org/name") the list decides for');
}

/** Whether this kind of trust may waive the transparency log: a key or a private CA, never a policy or a list. */
export function mayWaiveTlog(kind: AnchorKind): boolean {
  return kind === 'key' || kind === 'certificateChain';
}

/** Whether a signature may lack a transparency log entry: asked for, with key or private-CA trust. */
export function tlogWaived(anchor: TrustAnchor): boolean {
  return anchor.insecureIgnoreTlog === true && mayWaiveTlog(checkTrustAnchor(anchor));
}

/** What a signature without a log entry is told when the waiver was not given. */
export const NO_TLOG_ENTRY =
  'the signature has no transparency log entry; if it was signed without one on purpose (--tlog-upload=false), verify it with --insecure-ignore-tlog (library: insecureIgnoreTlog: true)';

/** What signed: a managed key, a certificate of a private PKI (no log entry), or a Sigstore certificate. */
export type SignatureMaterial = 'publicKey' | 'certificate';

/**
 * Why `kind` of trust does not fit a signature made with `material`, or undefined when it does;
 * `what` is "bundle" or "model" for the message. A key verifies key signatures only, a
 * certificate is verified by a policy or a CA chain, never by a key.
 */
export function anchorMismatch(kind: AnchorKind, material: SignatureMaterial, what: 'bundle' | 'model'): { code: 'KEY_MISMATCH' | 'KEY_REQUIRED'; reason: string } | undefined {
  if (kind === 'key' && material !== 'publicKey') {
    return { code: 'KEY_MISMATCH', reason: `the ${what} is signed with a certificate, not a key: verify it with an identity policy or --certificate-chain` };
  }
  if (kind === 'publishers' && material === 'publicKey') {
    return { code: 'KEY_REQUIRED', reason: `the ${what} is signed with a key, not a certificate: a publisher list trusts certificate identities only` };
  }
  if (kind !== 'key' && material === 'publicKey') {
    return { code: 'KEY_REQUIRED', reason: `the ${what} is signed with a key, not a certificate: verify it with --key and its public key` };
  }
  return undefined;
}
