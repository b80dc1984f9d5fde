import type { Bundle } from '@sigstore/bundle';
import { RFC3161Timestamp, X509Certificate, crypto as sigstoreCrypto } from '@sigstore/core';
import { HashAlgorithm, type MessageSignature, type TrustedRoot } from '@sigstore/protobuf-specs';
import { PolicyError as SigstorePolicyError, VerificationError, Verifier, toSignedEntity, toTrustMaterial, type SignedEntity, type TrustMaterial } from '@sigstore/verify';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { FULCIO_OID, certificateIdentity, issuerOf } from '../trust/certificate-identity.js';
import { CertificateChainError, verifyPrivateCaSigner } from './certificate-chain.js';
import { NO_TLOG_ENTRY, anchorMismatch, checkTrustAnchor, tlogWaived, type KeyValidity, type PublisherTrust, type TrustAnchor } from './trust-anchor.js';
import type { Policy } from '../trust/policy.js';
import { decidePublisher, type PublisherEntryRef } from '../trust/publisher-list.js';
import type { StringMatch } from '../trust/string-match.js';
import { readInTotoStatement } from './in-toto.js';
import { chooseTrustedRoot, issuerNotInRoot, type TrustedRoots } from './trusted-root-choice.js';

export type { TrustedRoots } from './trusted-root-choice.js';
import { parsePemCertificates, pemKeyBlock } from './pem.js';
import { verifyPrehashed, type HashName } from './prehashed.js';
import { BundleError, checkParsable } from './bundle.js';

/** What was signed: the bytes themselves, or only their digest (`sha256:<hex>` on the CLI). */
export type Artifact = { bytes: Uint8Array } | { digest: Uint8Array; algorithm: HashName };

/** The anchor a verification takes (its home, and checkTrustAnchor's, is trust-anchor.ts). */
export type { PublisherTrust, TrustAnchor } from './trust-anchor.js';

/**
 * Which check of a signature failed: kernelseal's own checks, then sigstore-js's codes
 * (@sigstore/verify VerificationError and PolicyError) as it reports them, and `ERROR` for
 * anything else sigstore-js raised on the bundle's content (a certificate or timestamp it could
 * not parse).
 */
export type SignatureVerificationErrorCode =
  | 'ARTIFACT_MISMATCH'
  | 'BUNDLE_INVALID'
  | 'CA_INVALID'
  | 'CERTIFICATE_ERROR'
  | 'KEY_ERROR'
  | 'KEY_INVALID'
  | 'KEY_MISMATCH'
  | 'KEY_REQUIRED'
  | 'NOT_AN_ATTESTATION'
  | 'POLICY_ERROR'
  | 'POLICY_REQUIRED'
  | 'PREDICATE_TYPE_ERROR'
  | 'PUBLISHER_ERROR'
  | 'PUBLISHER_LIST_ERROR'
  | 'SIGNATURE_ERROR'
  | 'STATEMENT_ERROR'
  | VerificationError['code']
  | SigstorePolicyError['code']
  | 'ERROR';

/** The signature did not verify, or its signer is not trusted; `code` says which check failed. */
export class SignatureVerificationError extends Error {
  override readonly name = 'SignatureVerificationError';
  constructor(
    readonly code: SignatureVerificationErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Who signed, as the verified certificate (or key) and log entry say. */
export interface Signer {
  method: 'certificate' | 'key';
  /** Subject alternative name of the certificate (workflow URI or email). */
  identity?: string;
  issuer?: string;
  sourceRepository?: string;
  /** The workflow that signed (build signer URI). */
  workflow?: string;
  ref?: string;
  commit?: string;
  /** SHA-256 of the public key (SPKI DER), hex: for managed keys. */
  keyId?: string;
  /** The earliest verified time: transparency log integration or RFC 3161 timestamp. */
  signedAt?: string;
  logIndex?: string;
  /** With a publisher list: the entry that trusted the signer (its pattern, note, the list and its version). */
  publisher?: PublisherEntryRef;
}

const HASH_NAMES: Partial<Record<HashAlgorithm, HashName>> = {
  [HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED]: 'sha256',
  [HashAlgorithm.SHA2_256]: 'sha256',
  [HashAlgorithm.SHA2_384]: 'sha384',
  [HashAlgorithm.SHA2_512]: 'sha512',
};

const trustMaterials = new WeakMap<TrustedRoot, TrustMaterial>();

/**
 * Verifies a Sigstore bundle over detached content, then checks who signed it. The pipeline
 * of sigstore-js (timestamps, signing certificate or key, transparency log, signature), with
 * what it leaves to the caller made strict: the artifact must match the bundle's message
 * digest or the in-toto subject of a DSSE envelope, the trust anchor must fit the bundle's kind,
 * and the policy is checked on the DER-decoded certificate extensions. Any failure throws
 * SignatureVerificationError with a reason.
 */
export function verifyBundle(bundle: Bundle, artifact: Artifact, trustedRoot: TrustedRoots, anchor: TrustAnchor): Signer {
  checkTrustAnchor(anchor);
  if (!artifact) throw new SignatureVerificationError('ARTIFACT_MISMATCH', 'no artifact: say what the bundle must sign');
  return verifyOrThrow(bundle, artifact, trustedRoot, anchor);
}

/**
 * Verifies a Sigstore bundle holding a DSSE envelope as verifyBundle does, without binding an
 * artifact: the caller reads the payload, once this returns, and binds it itself (a model
 * signature's statement lists the model's files). A bundle of another kind is refused.
 */
export function verifyEnvelopeBundle(bundle: Bundle, trustedRoot: TrustedRoots, anchor: TrustAnchor): Signer {
  checkTrustAnchor(anchor);
  if (bundle.content.$case !== 'dsseEnvelope') throw new SignatureVerificationError('ARTIFACT_MISMATCH', 'the bundle signs a message, not a DSSE envelope');
  return verifyOrThrow(bundle, undefined, trustedRoot, anchor);
}

/**
 * Verifies against the one root (of several given) whose CA issued the bundle's certificate, as
 * gh does (trusted-root-choice.ts), for a policy or a publisher list; key and private-CA trust use
 * the first root, for its logs.
 */
function verifyOrThrow(bundle: Bundle, artifact: Artifact | undefined, trustedRoots: TrustedRoots, anchor: TrustAnchor): Signer {
  // What sigstore-js would parse lazily, parsed first, in the step that owns its failure
  // (bundle.ts): past it, a TypeError or ReferenceError is a bug, not the bundle's shape.
  try {
    checkParsable(bundle);
  } catch (error) {
    if (error instanceof BundleError) throw new SignatureVerificationError('BUNDLE_INVALID', error.message, { cause: error });
    throw error;
  }
  // A policy or a publisher list trusts certificates: the root is the one whose CA issued this one,
  // never merely the first given (a list's signatures were checked against the first root alone).
  const kind = checkTrustAnchor(anchor);
  const leaf = kind === 'policy' || kind === 'publishers' ? leafIfAny(bundle) : undefined;
  const chosen = chooseTrustedRoot(leaf, trustedRoots);
  if ('reason' in chosen) throw new SignatureVerificationError('CERTIFICATE_ERROR', chosen.reason);
  const trustedRoot = chosen.root;
  try {
    return verify(bundle, artifact, trustedRoot, anchor);
  } catch (error) {
    // A TypeError or ReferenceError is a bug, or a caller's policy that is broken: it says
    // nothing about the bundle and never becomes a verdict (docs/architecture.md, Errors).
    if (error instanceof SignatureVerificationError || error instanceof TypeError || error instanceof ReferenceError) throw error;
    const { message, cause } = error as { message?: string; cause?: { message?: string } };
    const code = error instanceof VerificationError || error instanceof SigstorePolicyError ? error.code : 'ERROR';
    const detail = cause?.message && cause.message !== message ? `: ${cause.message}` : '';
    const text = `${message ?? String(error)}${detail}`;
    const notInRoot = leaf && issuerNotInRoot(leaf, trustedRoot);
    throw new SignatureVerificationError(code, `${text}${notInRoot ? ` (${notInRoot})` : whatDidNotFit(code, text, bundle, anchor)}`, { cause: error });
  }
}

/** The signing certificate, if the bundle has one that parses (sigstore-js reports one that does not). */
function leafIfAny(bundle: Bundle): X509Certificate | undefined {
  if (bundle.verificationMaterial.content.$case === 'publicKey') return undefined;
  try {
    return leafCertificate(bundle);
  } catch {
    return undefined;
  }
}

/**
 * What sigstore-js leaves out of its message, so that a failure says what did not fit: the
 * times against the certificate's validity, or which key was tried against which the bundle names.
 */
function whatDidNotFit(code: string | undefined, text: string, bundle: Bundle, anchor: TrustAnchor): string {
  try {
    if (code === 'CERTIFICATE_ERROR' && /not valid|expired/.test(text) && bundle.verificationMaterial.content.$case !== 'publicKey') {
      const leaf = leafCertificate(bundle);
      const signedAt = logFacts(bundle).signedAt ?? 'no verified time: now';
      return ` (signed at ${signedAt}; the signing certificate is valid from ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()})`;
    }
    if (code === 'SIGNATURE_ERROR' && 'key' in anchor && anchor.key !== undefined) {
      const ours = createHash('sha256').update(parseKey(anchor.key).export({ format: 'der', type: 'spki' }));
      const hint = bundle.verificationMaterial.content.$case === 'publicKey' ? bundle.verificationMaterial.content.publicKey.hint : '';
      const named = hint ? `; the bundle names the key ${/^[A-Za-z0-9+/]{43}=$/.test(hint) ? `sha256:${Buffer.from(hint, 'base64').toString('hex')}` : JSON.stringify(hint)}` : '';
      return ` (checked with the key sha256:${ours.digest('hex')}${named})`;
    }
  } catch {
    // the context is a courtesy: never let it hide the failure itself
  }
  return '';
}

function verify(bundle: Bundle, artifact: Artifact | undefined, trustedRoot: TrustedRoot, anchor: TrustAnchor): Signer {
  const kind = checkTrustAnchor(anchor);
  const material = bundle.verificationMaterial.content.$case;
  const fail = (code: SignatureVerificationErrorCode, message: string): never => {
    throw new SignatureVerificationError(code, message);
  };
  const mismatch = anchorMismatch(kind, material === 'publicKey' ? 'publicKey' : 'certificate', 'bundle');
  if (mismatch) fail(mismatch.code, mismatch.reason);
  // The signature first; only then is a DSSE payload read to bind the artifact.
  const check = (verifier: Verifier, entity = signedEntity(bundle, artifact)) => {
    verifier.verify(entity);
    if (bundle.content.$case === 'dsseEnvelope' && artifact) {
      bindInTotoSubject(bundle.content.dsseEnvelope.payloadType, bundle.content.dsseEnvelope.payload, artifact);
    }
  };
  if (kind === 'key' || kind === 'certificateChain') {
    // Key and private-CA trust need a log entry unless waived (trust-anchor.ts); a waiver needs
    // no entry and no timestamp, and an entry the bundle does carry is still verified.
    const waived = tlogWaived(anchor);
    if (!waived && bundle.verificationMaterial.tlogEntries.length === 0) fail('TLOG_ERROR', NO_TLOG_ENTRY);
    const thresholds = waived ? { tlogThreshold: 0, timestampThreshold: 0 } : {};
    // sigstore-js checks the key at each verified time; without any (a waiver), it must hold now.
    const times: Date[] = [];
    const signingKey = (publicKey: KeyObject, window?: KeyValidity) => () => ({
      publicKey,
      validFor: (date: Date) => (times.push(date), !window || (date >= window.start && (!window.end || date <= window.end))),
    });
    const timesOrNow = () => (times.length > 0 ? times : [new Date()]);
    if (kind === 'key') {
      const { key, validFor: window } = anchor as { key: KeyObject | string; validFor?: KeyValidity };
      const publicKey = parseKey(key);
      const found = signingKey(publicKey, window);
      check(new Verifier(toTrustMaterial(trustedRoot, found), thresholds));
      if (times.length === 0 && !found().validFor(new Date())) fail('PUBLIC_KEY_ERROR', 'the key is not valid now, and the signature has no verified time');
      return { method: 'key', keyId: keyId(publicKey), ...logFacts(bundle) };
    }
    // A private CA: its leaf's key verifies the signature as a key would (sigstore-js has no
    // chain to check it against at no verified time), and the chain is checked at each verified
    // time by the one private-CA check, certificate-chain.ts. Its certificates carry no SCTs.
    const { certificateChain, identity } = anchor as { certificateChain: string; identity?: StringMatch };
    const leaf = leafCertificate(bundle);
    if (waived) refuseFulcioWithoutLog(bundle, leaf, certificateChain, trustedRoot);
    const entity: SignedEntity = { ...signedEntity(bundle, artifact), key: { $case: 'public-key', hint: '' } };
    check(new Verifier(toTrustMaterial(trustedRoot, signingKey(createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' }))), thresholds), entity);
    try {
      verifyPrivateCaSigner(leaf, bundleIntermediates(bundle), certificateChain, timesOrNow(), identity);
    } catch (error) {
      if (error instanceof CertificateChainError) fail(error.code, error.message);
      throw error;
    }
    return bundleSigner(bundle);
  }
  let trustMaterial = trustMaterials.get(trustedRoot);
  if (!trustMaterial) trustMaterials.set(trustedRoot, (trustMaterial = toTrustMaterial(trustedRoot)));
  checkChainAgainstRoot(bundle, trustedRoot);
  check(new Verifier(trustMaterial, thresholdsOf(trustedRoot)));
  const identity = certificateIdentity(leafCertificate(bundle));
  if (kind === 'publishers') {
    // The list decides with every verified time (docs/publishers.md, section 2), never the
    // bundle's own claim: only once the signature, its log entries and timestamps hold.
    const { list, repoId } = (anchor as { publishers: PublisherTrust }).publishers;
    const decision = decidePublisher(list, repoId, identity, verifiedTimes(bundle));
    if (!decision.trusted) fail('PUBLISHER_LIST_ERROR', `the signer is not trusted: ${decision.message}`);
    return { ...bundleSigner(bundle), publisher: (decision as { entry: PublisherEntryRef }).entry };
  }
  const reason = (anchor as { policy: Policy }).policy.check(identity);
  if (reason !== undefined) fail('POLICY_ERROR', `the signer is not trusted by the policy: ${reason}`);
  return bundleSigner(bundle);
}

/**
 * A waived log is for keys and private PKIs only (trust-anchor.ts): a Fulcio certificate, or a
 * "private" chain holding a CA of the trusted root, is refused without its log entry.
 */
function refuseFulcioWithoutLog(bundle: Bundle, leaf: X509Certificate, certificateChain: string, trustedRoot: TrustedRoot): void {
  if (bundle.verificationMaterial.tlogEntries.length > 0) return; // the entry is verified as always
  const trusted = parsePemCertificates(certificateChain, (reason) => {
    throw new SignatureVerificationError('CA_INVALID', `the trusted CA certificates: ${reason}`);
  });
  const extensions = certificateIdentity(leaf).extensions;
  const fulcio = extensions.has(FULCIO_OID.issuer) || extensions.has(FULCIO_OID.issuerV1);
  const rootCAs = trustedRoot.certificateAuthorities.flatMap((ca) => ca.certChain?.certificates.map((c) => Buffer.from(c.rawBytes)) ?? []);
  const publicCA = trusted.some((certificate) => rootCAs.some((known) => known.equals(certificate.root.toDER())));
  if (fulcio || publicCA) {
    throw new SignatureVerificationError(
      'TLOG_ERROR',
      `the signing certificate is ${fulcio ? 'a Fulcio certificate' : "issued by a CA of the trusted root (Fulcio's)"}: --insecure-ignore-tlog works only with a key or a private CA, and this signature has no transparency log entry`,
    );
  }
}

/** The certificates a bundle carries after its leaf (v0.1/v0.2 chains); none in a v0.3 bundle. */
function bundleIntermediates(bundle: Bundle): X509Certificate[] {
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'x509CertificateChain') return [];
  return material.x509CertificateChain.certificates.slice(1).map((c) => X509Certificate.parse(Buffer.from(c.rawBytes)));
}

/**
 * What a signature must carry, from what the trusted root can check: a log entry when it lists
 * transparency logs, an SCT when it lists CT logs, and always one verified time. An instance
 * without logs (GitHub's own, which timestamps with its TSA and logs nothing publicly) is then
 * verifiable; a log entry or SCT a bundle does carry is still verified against the root.
 */
function thresholdsOf(trustedRoot: TrustedRoot) {
  return { tlogThreshold: trustedRoot.tlogs.length > 0 ? 1 : 0, ctlogThreshold: trustedRoot.ctlogs.length > 0 ? 1 : 0, timestampThreshold: 1 };
}

/** The signing certificate of a bundle signed with one (not a key). */
export function leafCertificate(bundle: Bundle): X509Certificate {
  const material = bundle.verificationMaterial.content;
  const raw = material.$case === 'x509CertificateChain' ? material.x509CertificateChain.certificates[0]!.rawBytes : (material as { certificate: { rawBytes: Buffer } }).certificate.rawBytes;
  return X509Certificate.parse(Buffer.from(raw));
}

/**
 * What a bundle says about its signer (the certificate's identity and Fulcio extensions, or
 * that a key signed), with its log facts. Only meaningful once the bundle has verified.
 */
export function bundleSigner(bundle: Bundle): Signer {
  if (bundle.verificationMaterial.content.$case === 'publicKey') return { method: 'key', ...logFacts(bundle) };
  const identity = certificateIdentity(leafCertificate(bundle));
  const ext = identity.extensions;
  return {
    method: 'certificate',
    identity: identity.subjectAlternativeName,
    issuer: issuerOf(identity),
    sourceRepository: ext.get(FULCIO_OID.sourceRepositoryURI),
    workflow: ext.get(FULCIO_OID.buildSignerURI),
    ref: ext.get(FULCIO_OID.sourceRepositoryRef),
    commit: ext.get(FULCIO_OID.sourceRepositoryDigest),
    ...logFacts(bundle),
  };
}

/**
 * sigstore-js builds the path from the leaf to the trusted root's CAs and ignores the rest of a
 * bundle's chain. Here that rest may only repeat certificates the trusted root holds: a root or
 * intermediate of unknown origin in a bundle is refused, not silently ignored.
 */
function checkChainAgainstRoot(bundle: Bundle, trustedRoot: TrustedRoot): void {
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'x509CertificateChain') return;
  const trusted = trustedRoot.certificateAuthorities.flatMap((ca) => ca.certChain?.certificates.map((c) => Buffer.from(c.rawBytes)) ?? []);
  material.x509CertificateChain.certificates.slice(1).forEach((certificate, i) => {
    if (!trusted.some((known) => known.equals(certificate.rawBytes))) {
      throw new SignatureVerificationError(
        'CERTIFICATE_ERROR',
        `the bundle's certificate chain carries a certificate (${i + 1}) the trusted root does not hold; roots and intermediates come from the trusted root only`,
      );
    }
  });
}

/** A key's ID as kernelseal prints it (Signer.keyId): the SHA-256 of its public key's SPKI DER, hex. */
export function keyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex');
}

/** A public key, as a KeyObject or PEM text (which may carry text around the key, as openssl and GnuTLS print it). */
export function parseKey(key: KeyObject | string): KeyObject {
  if (typeof key !== 'string') return key;
  const block = pemKeyBlock(key, 'PUBLIC KEY', (reason) => {
    throw new SignatureVerificationError('KEY_INVALID', `the key is not a PEM public key: ${reason}`);
  });
  try {
    return createPublicKey(block);
  } catch (error) {
    throw new SignatureVerificationError('KEY_INVALID', `the key is not a PEM public key: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The entity sigstore-js verifies. A message signature is bound to the artifact here, by its
 * digest; a DSSE envelope after its signature holds (see verify).
 */
function signedEntity(bundle: Bundle, artifact: Artifact | undefined): SignedEntity {
  const content = bundle.content;
  if (content.$case === 'dsseEnvelope') return toSignedEntity(bundle);
  if (!artifact) throw new SignatureVerificationError('ARTIFACT_MISMATCH', 'the bundle signs a message, not a DSSE envelope: give the artifact it signs');
  const signed = content.messageSignature;
  const hash = HASH_NAMES[signed.messageDigest!.algorithm];
  if (!hash) throw new SignatureVerificationError('ARTIFACT_MISMATCH', `unsupported message digest algorithm ${signed.messageDigest!.algorithm}`);
  const expected = signed.messageDigest!.digest;
  if ('bytes' in artifact) {
    const actual = createHash(hash).update(artifact.bytes).digest();
    if (!actual.equals(expected)) {
      throw new SignatureVerificationError('ARTIFACT_MISMATCH', `the artifact's ${hash} does not match the bundle's message digest`);
    }
    return toSignedEntity(bundle, Buffer.from(artifact.bytes));
  }
  if (artifact.algorithm !== hash || !Buffer.from(artifact.digest).equals(expected)) {
    throw new SignatureVerificationError('ARTIFACT_MISMATCH', `the artifact's ${artifact.algorithm} does not match the bundle's message digest`);
  }
  return { ...toSignedEntity(bundle), signature: digestSignatureContent(signed, hash) };
}

/** Signature content for a message known only by its digest (see verifyPrehashed). */
function digestSignatureContent(signed: MessageSignature, hash: HashName): SignedEntity['signature'] {
  const digest = signed.messageDigest!.digest;
  return {
    signature: signed.signature,
    compareSignature: (signature) => sigstoreCrypto.bufferEqual(signature, signed.signature),
    compareDigest: (other) => sigstoreCrypto.bufferEqual(other, digest),
    compareSignedDigest: (other) => sigstoreCrypto.bufferEqual(other, digest),
    verifySignature: (key) => verifyPrehashed(key, hash, digest, signed.signature),
  };
}

/**
 * A DSSE envelope signs its payload, not the artifact: the artifact is bound through the
 * in-toto statement, one of whose subjects must carry the artifact's digest (sha256, sha384 or
 * sha512, whichever the subject lists).
 */
function bindInTotoSubject(payloadType: string, payload: Buffer, artifact: Artifact): void {
  const fail = (reason: string): never => {
    throw new SignatureVerificationError('ARTIFACT_MISMATCH', reason);
  };
  const read = readInTotoStatement(payloadType, payload);
  if ('reason' in read) return fail(read.reason);
  const { subject } = read.statement;
  if (!Array.isArray(subject) || subject.length === 0) fail('the in-toto statement has no subject');
  const digestOf = (hash: HashName): string | undefined => {
    if ('bytes' in artifact) return createHash(hash).update(artifact.bytes).digest('hex');
    return artifact.algorithm === hash ? Buffer.from(artifact.digest).toString('hex') : undefined;
  };
  const subjects = subject as Array<{ digest?: Record<string, unknown> }>;
  const bound = subjects.some((subject) =>
    (['sha256', 'sha384', 'sha512'] as const).some((hash) => {
      const listed = subject?.digest?.[hash];
      return typeof listed === 'string' && listed.toLowerCase() === digestOf(hash);
    }),
  );
  if (!bound) fail("no subject of the in-toto statement carries the artifact's digest");
}

/**
 * Every verified signing time of a bundle whose timestamps and log entries verified (sigstore-js
 * verifies each one it counts): the RFC 3161 timestamps, and the integrated times of log
 * entries with a signed inclusion promise. An integrated time without one is an unsigned claim
 * and says nothing.
 */
export function verifiedTimes(bundle: Bundle): Date[] {
  const times: Date[] = [];
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    const seconds = Number(entry.integratedTime);
    if (entry.inclusionPromise && seconds > 0) times.push(new Date(seconds * 1000));
  }
  for (const ts of bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []) {
    times.push(RFC3161Timestamp.parse(Buffer.from(ts.signedTimestamp)).signingTime);
  }
  return times;
}

/** Signing time and log index, from a bundle whose timestamps and log entries verified. */
function logFacts(bundle: Bundle): Pick<Signer, 'signedAt' | 'logIndex'> {
  const times = verifiedTimes(bundle).map((time) => time.getTime());
  // The log index the log vouches for: the entry's, which its signed promise covers, or else
  // the one its inclusion proof was checked at. An entry's own field is not covered by a proof
  // (a Rekor v2 entry has no promise): printing it would print whatever the bundle says.
  const entry = bundle.verificationMaterial.tlogEntries[0];
  const logIndex = entry?.inclusionPromise ? entry.logIndex : entry?.inclusionProof?.logIndex;
  return {
    signedAt: times.length > 0 ? new Date(Math.min(...times)).toISOString() : undefined,
    logIndex: logIndex === undefined ? undefined : String(logIndex),
  };
}
