import { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { X509Certificate as NodeCertificate } from 'node:crypto';

/**
 * The trusted roots a verification may use: one, or several instances at once (public-good
 * and GitHub's own, as `gh attestation trusted-root` lists them). A signature is verified
 * against one root only, the one whose CA issued its certificate (chooseTrustedRoot): roots
 * are never merged.
 */
export type TrustedRoots = TrustedRoot | readonly TrustedRoot[];

/** The roots as a list. */
export function rootList(roots: TrustedRoots): readonly TrustedRoot[] {
  return Array.isArray(roots) ? (roots as readonly TrustedRoot[]) : [roots as TrustedRoot];
}

/**
 * The root to verify a certificate against, chosen by its issuer chain as gh does (gh picks the
 * public-good or GitHub verifier by the leaf's issuer organization; here the leaf's issuer must
 * be the subject of a CA certificate the root holds, which is stricter). Without a certificate
 * (a key signed), or with one root only, the first root. Why not, when no root holds the issuer.
 */
export function chooseTrustedRoot(leaf: SigstoreCertificate | undefined, roots: TrustedRoots): { root: TrustedRoot } | { reason: string } {
  const list = rootList(roots);
  if (list.length === 0) throw new TypeError('no trusted root given');
  if (!leaf || list.length === 1) return { root: list[0]! };
  const root = list.find((candidate) => holdsIssuer(candidate, leaf));
  if (root) return { root };
  return { reason: `${unknownIssuer(leaf)}, in none of the ${list.length} trusted roots given${instanceHint(leaf)}` };
}

/**
 * Why a signature may have failed against `root`, when its certificate's issuer is not in it:
 * the usual cause of "timestamp could not be verified" for an attestation of a private
 * repository checked against the public-good root. Undefined when the root holds the issuer.
 */
export function issuerNotInRoot(leaf: SigstoreCertificate, root: TrustedRoot): string | undefined {
  if (holdsIssuer(root, leaf)) return undefined;
  return `${unknownIssuer(leaf)}, which the trusted root does not hold${instanceHint(leaf)}`;
}

/**
 * Whether a CA of the root could have issued the leaf: the leaf's authority key ID is the CA
 * certificate's subject key ID or, without those, its issuer is the CA's subject (how
 * sigstore-js looks for issuers, @sigstore/verify key/certificate.js findIssuer).
 */
function holdsIssuer(root: TrustedRoot, leaf: SigstoreCertificate): boolean {
  const authorityKey = leaf.extAuthorityKeyID?.keyIdentifier;
  return root.certificateAuthorities.some((ca) =>
    ca.certChain?.certificates.some((c) => {
      const candidate = certificateOf(c.rawBytes);
      const subjectKey = candidate.extSubjectKeyID?.keyIdentifier;
      return authorityKey && subjectKey ? subjectKey.equals(authorityKey) : candidate.subject.equals(leaf.issuer);
    }),
  );
}

const certificates = new WeakMap<Uint8Array, SigstoreCertificate>();

/** A certificate of a root, parsed once. */
function certificateOf(der: Uint8Array): SigstoreCertificate {
  let certificate = certificates.get(der);
  if (!certificate) certificates.set(der, (certificate = SigstoreCertificate.parse(Buffer.from(der))));
  return certificate;
}

function unknownIssuer(leaf: SigstoreCertificate): string {
  return `the signing certificate was issued by "${issuerName(leaf)}"`;
}

/** "O=GitHub, Inc., CN=Fulcio Intermediate l2": the issuer's attributes, unescaped, for people. */
function issuerName(leaf: SigstoreCertificate): string {
  return new NodeCertificate(leaf.root.toDER()).issuer
    .split('\n')
    .map((attribute) => attribute.replace(/\\(.)/g, '$1'))
    .join(', ');
}

/** What to do about it, for the instances a user of gh meets. */
function instanceHint(leaf: SigstoreCertificate): string {
  if (/(^|, )O=GitHub, Inc\.(, |$)/.test(issuerName(leaf))) {
    return ": GitHub's own Sigstore instance signed it (private repositories, release attestations): verify it with GitHub's trusted root, which kernelseal uses unless --trusted-root names other roots (gh attestation trusted-root > roots.jsonl writes both, one a line)";
  }
  return ': give the trusted root of the instance that signed it (--trusted-root)';
}
