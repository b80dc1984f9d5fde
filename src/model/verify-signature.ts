import { bundleFromJSON } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { X509Certificate as NodeX509Certificate, createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { StringMatch } from '../policy/string-match.js';
import type { TrustedRoot } from '../sigstore/trusted-root.js';
import { SignatureVerificationError, verifyBundle, type Signer, type TrustAnchor } from '../sigstore/verify-bundle.js';
import { legacyPreAuthEncoding, preAuthEncoding } from '../sigstore/dsse.js';
import type { ModelSignature } from './signature-file.js';

/** ECDSA curves model signing uses, and the hash each signs with (the reference's choice by key size). */
export const CURVE_HASH: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  prime256v1: 'sha256',
  secp384r1: 'sha384',
  secp521r1: 'sha512',
};

const CODE_SIGNING_EKU = '1.3.6.1.5.5.7.3.3';
const MAX_CHAIN_DEPTH = 8;

/**
 * Verifies the signature of a model signature file against `anchor`, by its method:
 * - a Sigstore keyless signature (Fulcio certificate, transparency log) with a policy: the full
 *   Sigstore verification of verifyBundle against `trustedRoot`;
 * - a key signature with that public key (`key`);
 * - a certificate of a private PKI with its CA certificates (`certificateChain`).
 * Key and certificate signatures carry no log entry: the DSSE signature is checked here, with
 * the hash of the key's curve (SHA-384 for P-384), which sigstore-js cannot do. The anchor
 * must fit the signature's kind. Returns the signer; throws SignatureVerificationError.
 */
export function verifyModelSignature(signature: ModelSignature, anchor: TrustAnchor, trustedRoot: TrustedRoot, now = new Date()): Signer {
  const { material } = signature;
  if ('key' in anchor && anchor.key !== undefined) {
    if (material.kind !== 'publicKey') fail('KEY_MISMATCH', 'the model is signed with a certificate, not a key: verify it with a policy or --certificate-chain');
    return verifyWithKey(signature, publicKey(anchor.key), material.hint);
  }
  if ('certificateChain' in anchor && anchor.certificateChain !== undefined) {
    if (material.kind !== 'x509CertificateChain') {
      fail('CERTIFICATE_ERROR', material.kind === 'publicKey' ? 'the model is signed with a key: verify it with --key' : 'the model is signed keylessly through Sigstore: verify it with an identity and an issuer, or a policy');
    }
    return verifyWithCertificateChain(signature, anchor.certificateChain, anchor.identity, now);
  }
  if (material.kind === 'publicKey') fail('KEY_REQUIRED', 'the model is signed with a key, not a certificate: verify it with that public key (--key)');
  if (material.kind === 'x509CertificateChain' && signature.tlogEntries === 0) {
    fail('CERTIFICATE_ERROR', 'the model is signed with a certificate of a private PKI, with no transparency log entry: verify it with --certificate-chain');
  }
  let bundle;
  try {
    bundle = bundleFromJSON(signature.json);
  } catch (error) {
    fail('BUNDLE_INVALID', `not a valid Sigstore bundle: ${(error as Error).message}`);
  }
  return verifyBundle(bundle!, undefined, trustedRoot, anchor);
}

function verifyWithKey(signature: ModelSignature, key: KeyObject, hint: string | undefined): Signer {
  const der = key.export({ format: 'der', type: 'spki' });
  if (hint !== undefined) {
    // model_signing 1.1 hints with the SHA-256 of the key's PEM text, sigstore-js with that of its DER.
    const pem = key.export({ format: 'pem', type: 'spki' }).toString();
    const known = [createHash('sha256').update(pem).digest('hex'), createHash('sha256').update(der).digest('base64')];
    if (!known.includes(hint)) fail('KEY_MISMATCH', `the signature names another key (hint ${hint})`);
  }
  verifyEnvelope(signature, key);
  return { method: 'key', keyId: createHash('sha256').update(der).digest('hex') };
}

/**
 * A private PKI (the reference's certificate method): the bundle carries the leaf and its
 * intermediates; the chain must end at one of the CA certificates the verifier trusts, every
 * certificate valid now (there is no timestamp to say when the signature was made), each issuer
 * a CA, the leaf fit for signing (key usage digitalSignature or extended key usage codeSigning).
 */
function verifyWithCertificateChain(signature: ModelSignature, trustedPem: string, identity: StringMatch | undefined, now: Date): Signer {
  const material = signature.material as { certificates: Buffer[] };
  const anchors = parseCertificates(trustedPem);
  const [leaf, ...intermediates] = material.certificates.map((der, i) => {
    try {
      return X509Certificate.parse(Buffer.from(der));
    } catch (error) {
      return fail('CERTIFICATE_ERROR', `certificate ${i} of the bundle does not parse: ${(error as Error).message}`);
    }
  }) as [X509Certificate, ...X509Certificate[]];
  const path = buildPath(leaf, intermediates, anchors);
  for (const certificate of path) {
    if (!certificate.validForDate(now)) {
      fail('CERTIFICATE_ERROR', `the certificate ${subjectOf(certificate)} is not valid now (valid ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()})`);
    }
  }
  const leafUsage = leaf.extKeyUsage;
  const extendedUsage = new NodeX509Certificate(leaf.root.toDER()).keyUsage ?? [];
  if (!(leafUsage?.digitalSignature || extendedUsage.includes(CODE_SIGNING_EKU))) {
    fail('CERTIFICATE_ERROR', 'the signing certificate is not for signatures (neither key usage digitalSignature nor extended key usage codeSigning)');
  }
  const subject = leaf.subjectAltName ?? subjectOf(leaf);
  if (identity && !identity.test(subject)) {
    fail('POLICY_ERROR', `the signer is not trusted: identity is ${JSON.stringify(subject)}, expected ${identity.description}`);
  }
  verifyEnvelope(signature, createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' }));
  return { method: 'certificate', identity: subject, issuer: subjectOf(path[path.length - 1]!) };
}

/**
 * The path from `leaf` up to a trusted certificate, built by name and signature: each step an
 * issuer whose subject is the certificate's issuer and whose key signed it (the reference's
 * test leaf bears its issuer's name, so a name alone proves nothing).
 */
function buildPath(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[]): X509Certificate[] {
  const path = [leaf];
  for (let current = leaf; path.length <= MAX_CHAIN_DEPTH; ) {
    if (anchors.some((anchor) => anchor.equals(current))) return path;
    const issuer = [...intermediates, ...anchors].find(
      (candidate) => !path.some((seen) => seen.equals(candidate)) && candidate.subject.equals(current.issuer) && candidate.isCA && current.verify(candidate),
    );
    if (!issuer) break;
    path.push(issuer);
    current = issuer;
  }
  return fail('CERTIFICATE_ERROR', `the signing certificate ${subjectOf(leaf)} does not chain to a trusted CA certificate`);
}

/** Checks the DSSE signature: the standard encoding, else the one model_signing v0.2 signed. */
function verifyEnvelope(signature: ModelSignature, key: KeyObject): void {
  const { payload, payloadType, signature: sig } = signature.envelope;
  const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
  const hash = CURVE_HASH[curve];
  if (key.asymmetricKeyType !== 'ec' || !hash) fail('KEY_INVALID', `unsupported key ${key.asymmetricKeyType} ${curve}: model signatures use ECDSA P-256, P-384 or P-521`);
  if (cryptoVerify(hash!, preAuthEncoding(payloadType, payload), key, sig)) return;
  // v0.2 signed its odd encoding with SHA-256 whatever the curve (the reference verifies it so).
  const legacy = legacyPreAuthEncoding(payloadType, payload);
  if (cryptoVerify('sha256', legacy, key, sig) || (hash !== 'sha256' && cryptoVerify(hash!, legacy, key, sig))) return;
  fail('SIGNATURE_ERROR', 'the DSSE signature does not verify with the signing key');
}

function publicKey(key: KeyObject | string): KeyObject {
  if (typeof key !== 'string') return key;
  // A PEM file may carry text before the key (openssl and GnuTLS print one).
  const start = key.indexOf('-----BEGIN PUBLIC KEY-----');
  try {
    return createPublicKey(start > 0 ? key.slice(start) : key);
  } catch (error) {
    return fail('KEY_INVALID', `the key is not a PEM public key: ${(error as Error).message}`);
  }
}

function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) fail('CA_INVALID', 'the trusted CA file holds no PEM certificate');
  return blocks.map((block, i) => {
    try {
      return X509Certificate.parse(block);
    } catch (error) {
      return fail('CA_INVALID', `CA certificate ${i} does not parse: ${(error as Error).message}`);
    }
  });
}

function subjectOf(certificate: X509Certificate): string {
  return new NodeX509Certificate(certificate.root.toDER()).subject.replace(/\n/g, ', ');
}

function fail(code: string, message: string): never {
  throw new SignatureVerificationError(code, message);
}
