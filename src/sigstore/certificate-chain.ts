import { X509Certificate } from '@sigstore/core';
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { StringMatch } from '../trust/string-match.js';
import { parsePemCertificates } from './pem.js';

// The one home of private-CA trust: signing checks its certificate here before it signs, and
// every verifier (message and DSSE bundles, model signatures) checks the signer here
// (verifyPrivateCaSigner), whatever else it verifies with sigstore-js.

const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const MAX_CHAIN_DEPTH = 8;
/** Critical extensions this check understands; any other critical one fails the chain (RFC 5280 4.2). */
const UNDERSTOOD_CRITICAL = new Set([
  '2.5.29.15', // key usage
  '2.5.29.17', // subject alternative name
  '2.5.29.19', // basic constraints
  '2.5.29.37', // extended key usage
]);

/**
 * A certificate chain of a private PKI does not hold; the message says where, and `code` which
 * check failed, as SignatureVerificationError codes it.
 */
export class CertificateChainError extends Error {
  override readonly name = 'CertificateChainError';
  constructor(
    message: string,
    readonly code: 'CA_INVALID' | 'CERTIFICATE_ERROR' | 'POLICY_ERROR' = 'CERTIFICATE_ERROR',
  ) {
    super(message);
  }
}

/**
 * Whether a signature's `leaf` (with the `intermediates` it carries) is trusted through the CA
 * certificates of `trustedPem` (a chain or CA bundle; the path may end at any of them): the path
 * holds at every time in `times` (the signature's verified times, or now when it has none), and
 * the leaf's subject alternative name matches `identity` when one is asked for. Returns the
 * path, leaf first; throws CertificateChainError.
 */
export function verifyPrivateCaSigner(leaf: X509Certificate, intermediates: X509Certificate[], trustedPem: string, times: Date[], identity?: StringMatch): X509Certificate[] {
  const trusted = parsePemCertificates(trustedPem, (reason) => {
    throw new CertificateChainError(`the trusted CA certificates: ${reason}`, 'CA_INVALID');
  });
  let path: X509Certificate[] = [];
  for (const time of times) path = verifyCertificatePath(leaf, intermediates, trusted, time);
  const san = leaf.subjectAltName;
  if (identity && (san === undefined || !identity.test(san))) {
    throw new CertificateChainError(
      `the signer is not trusted: identity is ${san === undefined ? 'absent (no subject alternative name)' : JSON.stringify(san)}, expected ${identity.description}`,
      'POLICY_ERROR',
    );
  }
  return path;
}

/**
 * The path from `leaf` up to one of the `trusted` certificates, checked as RFC 5280 would for
 * what matters here: each step an issuer whose subject is the certificate's issuer and whose key
 * signed it (the reference's test leaf bears its issuer's name, so a name alone proves
 * nothing); each issuer a CA (basic constraints, keyCertSign) within its path length; no
 * critical extension left unchecked; every certificate valid at `now`. Returns the path, leaf
 * first, trusted certificate last.
 */
export function verifyCertificatePath(leaf: X509Certificate, intermediates: X509Certificate[], trusted: X509Certificate[], now: Date): X509Certificate[] {
  const path = [leaf];
  for (let current = leaf; !trusted.some((anchor) => anchor.equals(current)); ) {
    const issuer = [...intermediates, ...trusted].find(
      (candidate) => !path.some((seen) => seen.equals(candidate)) && candidate.subject.equals(current.issuer) && candidate.isCA && current.verify(candidate),
    );
    if (!issuer || path.length > MAX_CHAIN_DEPTH) throw new CertificateChainError(`the signing certificate ${subjectOf(leaf)} does not chain to a trusted CA certificate`);
    // CAs between this issuer and the leaf: at most its path length constraint.
    const below = path.length - 1;
    const limit = issuer.extBasicConstraints?.pathLenConstraint;
    if (limit !== undefined && BigInt(below) > limit) {
      throw new CertificateChainError(`the CA ${subjectOf(issuer)} may not have ${below} CA certificates below it (path length ${limit})`);
    }
    path.push(issuer);
    current = issuer;
  }
  for (const certificate of path) {
    checkCriticalExtensions(certificate);
    if (!certificate.validForDate(now)) {
      throw new CertificateChainError(
        `the certificate ${subjectOf(certificate)} is not valid now (valid ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()})`,
      );
    }
  }
  return path;
}

/** A critical extension this code does not check makes the certificate unusable (RFC 5280 4.2). */
function checkCriticalExtensions(certificate: X509Certificate): void {
  const unknown = certificate.extensions.find((ext) => ext.subs.length === 3 && ext.subs[1]!.toBoolean() && !UNDERSTOOD_CRITICAL.has(ext.subs[0]!.toOID()));
  if (unknown) throw new CertificateChainError(`the certificate ${subjectOf(certificate)} has a critical extension kernelseal does not check (${unknown.subs[0]!.toOID()})`);
}

/**
 * Whether a leaf may sign (its critical extensions understood, and): every usage it states must allow it (key usage digitalSignature,
 * extended key usage codeSigning or any), and it must state at least one. A TLS server
 * certificate of the same CA cannot sign models.
 */
export function checkSigningUsage(leaf: X509Certificate): void {
  checkCriticalExtensions(leaf);
  const keyUsage = leaf.extKeyUsage; // @sigstore/core's name for key usage (2.5.29.15)
  const extended = new NodeX509Certificate(leaf.root.toDER()).keyUsage; // Node's name for extended key usage
  if (!keyUsage && !extended) throw new CertificateChainError('the signing certificate states no key usage: it is not for signatures');
  if (keyUsage && !keyUsage.digitalSignature) throw new CertificateChainError('the signing certificate is not for signatures (its key usage lacks digitalSignature)');
  if (extended && !extended.includes(CODE_SIGNING) && !extended.includes(ANY_EXTENDED_KEY_USAGE)) {
    throw new CertificateChainError('the signing certificate is not for code signing (its extended key usage lacks codeSigning)');
  }
}

/** The subject, as people read it: `CN=intermediate-ca`. */
export function subjectOf(certificate: X509Certificate): string {
  return new NodeX509Certificate(certificate.root.toDER()).subject.replace(/\n/g, ', ');
}
