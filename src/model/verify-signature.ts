import { bundleFromJSON } from '@sigstore/bundle';
import { X509Certificate, dsse } from '@sigstore/core';
import { BUNDLE_LIMITS, BundleError, parseCertificate } from '../sigstore/bundle.js';
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { StringMatch } from '../trust/string-match.js';
import { SignatureVerificationError, type SignatureVerificationErrorCode, keyId, parseKey, verifyEnvelopeBundle, type Signer, type TrustedRoots } from '../sigstore/verify-bundle.js';
import { anchorMismatch, checkTrustAnchor, type TrustAnchor } from '../sigstore/trust-anchor.js';
import { CertificateChainError, checkSigningUsage, subjectOf, verifyPrivateCaSigner } from '../sigstore/certificate-chain.js';
import { legacyPreAuthEncoding } from '../sigstore/dsse.js';
import type { ModelSignature } from './signature-file.js';

/** ECDSA curves model signing uses, and the hash each signs with (the reference's choice by key size). */
export const CURVE_HASH: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  prime256v1: 'sha256',
  secp384r1: 'sha384',
  secp521r1: 'sha512',
};

/** A verified model signature: who signed, and whether with model_signing v0.2's encoding. */
export interface VerifiedModelSignature {
  signer: Signer;
  /** Signed over the v0.2 encoding: only a v0.2 statement (`Digests/v0.1`) may be read from it. */
  legacyEncoding: boolean;
}

/**
 * Verifies the signature of a model signature file against `anchor`, by its method:
 * - a Sigstore keyless signature (Fulcio certificate, transparency log) with a policy: the full
 *   Sigstore verification of verifyBundle against `trustedRoot`;
 * - a key signature with that public key (`key`);
 * - a certificate of a private PKI with its CA certificates (`certificateChain`).
 * Key and certificate signatures carry no log entry: the DSSE signature is checked here, with
 * the hash of the key's curve (SHA-384 for P-384), which sigstore-js cannot do. The anchor
 * must fit the signature's kind. Throws SignatureVerificationError.
 */
export function verifyModelSignature(signature: ModelSignature, anchor: TrustAnchor, trustedRoot: TrustedRoots, now = new Date()): VerifiedModelSignature {
  const kind = checkTrustAnchor(anchor);
  const { material } = signature;
  const mismatch = anchorMismatch(kind, material.kind === 'publicKey' ? 'publicKey' : 'certificate', 'model');
  if (mismatch) fail(mismatch.code, mismatch.reason);
  if (kind === 'key') return verifyWithKey(signature, parseKey((anchor as { key: KeyObject | string }).key), (material as { hint?: string }).hint);
  if (kind === 'certificateChain') {
    if (material.kind !== 'x509CertificateChain') fail('CERTIFICATE_ERROR', 'the model is signed keylessly through Sigstore: verify it with an identity and an issuer, or a policy');
    const { certificateChain, identity } = anchor as { certificateChain: string; identity?: StringMatch };
    return verifyWithCertificateChain(signature, certificateChain, identity, now);
  }
  if (material.kind === 'x509CertificateChain' && signature.tlogEntries === 0) {
    fail('CERTIFICATE_ERROR', 'the model is signed with a certificate of a private PKI, with no transparency log entry: verify it with --certificate-chain');
  }
  let bundle;
  try {
    bundle = bundleFromJSON(signature.json);
  } catch (error) {
    fail('BUNDLE_INVALID', `not a valid Sigstore bundle: ${(error as Error).message}`);
  }
  return { signer: verifyEnvelopeBundle(bundle!, trustedRoot, anchor), legacyEncoding: false };
}

function verifyWithKey(signature: ModelSignature, key: KeyObject, hint: string | undefined): VerifiedModelSignature {
  const der = key.export({ format: 'der', type: 'spki' });
  if (hint !== undefined) {
    // model_signing 1.1 hints with the SHA-256 of the key's PEM text, sigstore-js with that of its DER.
    const pem = key.export({ format: 'pem', type: 'spki' }).toString();
    const known = [createHash('sha256').update(pem).digest('hex'), createHash('sha256').update(der).digest('base64')];
    if (!known.includes(hint)) fail('KEY_MISMATCH', `the signature names another key (hint ${hint})`);
  }
  const legacyEncoding = verifyEnvelope(signature, key);
  return { signer: { method: 'key', keyId: keyId(key) }, legacyEncoding };
}

/**
 * A private PKI (the reference's certificate method): the bundle carries the leaf and its
 * intermediates; the chain must end at one of the CA certificates the verifier trusts and hold
 * by RFC 5280's rules that matter here, every certificate valid now (there is no timestamp to
 * say when the signature was made), the leaf fit for signing (see checkSigningUsage). An
 * identity, when asked for, is matched against the leaf's subject alternative name only.
 */
function verifyWithCertificateChain(signature: ModelSignature, trustedPem: string, identity: StringMatch | undefined, now: Date): VerifiedModelSignature {
  const material = signature.material as { certificates: Buffer[] };
  if (material.certificates.length > BUNDLE_LIMITS.certificates) {
    fail('CERTIFICATE_ERROR', `the signature carries ${material.certificates.length} certificates, more than the ${BUNDLE_LIMITS.certificates} a signature can need`);
  }
  const [leaf, ...intermediates] = material.certificates.map((der, i) => {
    try {
      return parseCertificate(der, `certificate ${i} of the bundle`);
    } catch (error) {
      if (error instanceof BundleError) return fail('CERTIFICATE_ERROR', error.message);
      throw error;
    }
  }) as [X509Certificate, ...X509Certificate[]];
  let path: X509Certificate[];
  try {
    checkSigningUsage(leaf);
    path = verifyPrivateCaSigner(leaf, intermediates, trustedPem, [now], identity);
  } catch (error) {
    if (error instanceof CertificateChainError) return fail(error.code, error.message);
    throw error;
  }
  const legacyEncoding = verifyEnvelope(signature, createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' }));
  return { signer: { method: 'certificate', identity: leaf.subjectAltName ?? subjectOf(leaf), issuer: subjectOf(path[path.length - 1]!) }, legacyEncoding };
}

/**
 * Checks the DSSE signature with the hash of the key's curve over the standard encoding; else
 * over the encoding model_signing v0.2 signed, with SHA-256 as it did whatever the curve.
 * Returns whether it was the latter.
 */
function verifyEnvelope(signature: ModelSignature, key: KeyObject): boolean {
  const { payload, payloadType, signature: sig } = signature.envelope;
  const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
  const hash = CURVE_HASH[curve];
  if (key.asymmetricKeyType !== 'ec' || !hash) fail('KEY_INVALID', `unsupported key ${key.asymmetricKeyType} ${curve}: model signatures use ECDSA P-256, P-384 or P-521`);
  if (cryptoVerify(hash!, dsse.preAuthEncoding(payloadType, Buffer.from(payload)), key, sig)) return false;
  if (cryptoVerify('sha256', legacyPreAuthEncoding(payloadType, payload), key, sig)) return true;
  return fail('SIGNATURE_ERROR', 'the DSSE signature does not verify with the signing key');
}

function fail(code: SignatureVerificationErrorCode, message: string): never {
  throw new SignatureVerificationError(code, message);
}
