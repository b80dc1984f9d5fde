import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  ValidationError,
  bundleFromJSON,
  type Bundle,
} from '@sigstore/bundle';
import { RFC3161Timestamp, X509Certificate } from '@sigstore/core';
import { X509Certificate as NodeX509Certificate, createPublicKey } from 'node:crypto';
import { FULCIO_OID, certificateIdentity } from '../trust/certificate-identity.js';
import { isJSONObject } from '../json/json-object.js';
import { parseStrictJSON } from '../json/strict-json.js';

export type { Bundle };

/** The bundle cannot be used: not JSON, not a Sigstore bundle, or a shape we refuse. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
  readonly code = 'BUNDLE_INVALID' as const;
}

/** Bundle media types we accept: v0.1, v0.2 and both spellings of v0.3. */
export const BUNDLE_MEDIA_TYPES: readonly string[] = [
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
];

/**
 * Parses a Sigstore bundle from its JSON text. Beyond sigstore-js's checks: the media type must
 * be one we know, and every certificate and timestamp must parse (checkParsable). (What a chain may carry beyond the leaf is
 * checked against the trusted root when verifying.)
 */
export function parseBundle(text: string | Uint8Array): Bundle {
  const json = parseStrictJSON(text, (error) => new BundleError(error.message, { cause: error }));
  if (!isJSONObject(json)) throw new BundleError('not a JSON object');
  const mediaType = json.mediaType;
  if (typeof mediaType !== 'string' || !BUNDLE_MEDIA_TYPES.includes(mediaType)) {
    throw new BundleError(`unsupported bundle media type ${JSON.stringify(mediaType) ?? '(none)'}`);
  }
  checkEncodings(json);
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new BundleError(`${error.message}: missing or invalid ${error.fields.join(', ')}`, { cause: error });
    }
    throw new BundleError(`not a Sigstore bundle: ${(error as Error).message}`, { cause: error });
  }
  checkParsable(bundle);
  return bundle;
}

/** Fields of a bundle's JSON that hold bytes, in base64 (`*`: every element of a list). */
const BASE64_FIELDS = [
  'messageSignature.signature',
  'messageSignature.messageDigest.digest',
  'dsseEnvelope.payload',
  'dsseEnvelope.signatures.*.sig',
  'verificationMaterial.certificate.rawBytes',
  'verificationMaterial.x509CertificateChain.certificates.*.rawBytes',
  'verificationMaterial.tlogEntries.*.logId.keyId',
  'verificationMaterial.tlogEntries.*.canonicalizedBody',
  'verificationMaterial.tlogEntries.*.inclusionPromise.signedEntryTimestamp',
  'verificationMaterial.tlogEntries.*.inclusionProof.rootHash',
  'verificationMaterial.tlogEntries.*.inclusionProof.hashes.*',
  'verificationMaterial.timestampVerificationData.rfc3161Timestamps.*.signedTimestamp',
];
/** Fields that hold a log index, a time or a tree size: never negative. */
const COUNT_FIELDS = [
  'verificationMaterial.tlogEntries.*.logIndex',
  'verificationMaterial.tlogEntries.*.integratedTime',
  'verificationMaterial.tlogEntries.*.inclusionProof.logIndex',
  'verificationMaterial.tlogEntries.*.inclusionProof.treeSize',
];

/**
 * Bytes and numbers exactly as written. The protobuf JSON reader decodes base64 leniently (it
 * drops what is not base64: `INVALID!!!BASE64` reads as other bytes) and takes a negative log
 * index; either is a malformed bundle, said so, rather than a verdict about whatever bytes or
 * index the leniency made of it.
 */
function checkEncodings(json: unknown): void {
  for (const path of BASE64_FIELDS) {
    for (const [at, value] of fieldsAt(json, path)) {
      if (typeof value !== 'string' || !isBase64(value)) throw new BundleError(`${at} is not base64`);
    }
  }
  for (const path of COUNT_FIELDS) {
    for (const [at, value] of fieldsAt(json, path)) {
      const ok = typeof value === 'string' ? /^\d+$/.test(value) : Number.isSafeInteger(value) && (value as number) >= 0;
      if (!ok) throw new BundleError(`${at} must be a non-negative integer, not ${JSON.stringify(value)}`);
    }
  }
}

/** The values at a dotted `path` (with `*` for each element of a list), by their place. */
function fieldsAt(json: unknown, path: string): Array<[string, unknown]> {
  let nodes: Array<[string, unknown]> = [['', json]];
  for (const key of path.split('.')) {
    nodes = nodes.flatMap(([at, node]): Array<[string, unknown]> => {
      if (key === '*') return Array.isArray(node) ? node.map((item, i) => [`${at}[${i}]`, item]) : [];
      if (!isJSONObject(node) || !Object.hasOwn(node, key)) return [];
      return [[at ? `${at}.${key}` : key, node[key]]];
    });
  }
  return nodes.filter(([, value]) => value !== undefined && value !== null);
}

/**
 * Standard or URL-safe base64, padded or not, whose every character and bit is meant; broken
 * into lines or not (as MIME writes it: real bundles do).
 */
function isBase64(text: string): boolean {
  const plain = text.replace(/\r?\n/g, '').replace(/=+$/, '');
  if (!/^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)$/.test(plain) || plain.length % 4 === 1) return false;
  return Buffer.from(plain, 'base64').toString('base64').replace(/=+$/, '') === plain.replace(/-/g, '+').replace(/_/g, '/');
}

/**
 * The parts of a bundle that verification reads before any signature over them holds, read
 * here in full: each certificate (with every field sigstore-js's chain and SCT checks and our
 * policy read) and each RFC 3161 timestamp (the fields read before its signature is checked).
 * sigstore-js reads them lazily and throws a TypeError on malformed DER (an INTEGER where a
 * SEQUENCE should be); read here first, such input is a BundleError (bundle-invalid) with the
 * part named, and an exception while verifying stays what it is, a bug (docs/architecture.md,
 * Errors). Log entries are verified whole by sigstore-js's own checks (their malformed fields
 * are its VerificationErrors, fuzzed in __test__/fuzz.test.ts), their body only once the log's
 * signature over it holds.
 */
export function checkParsable(bundle: Bundle): void {
  if (parsable.has(bundle)) return;
  checkCounts(bundle);
  const material = bundle.verificationMaterial;
  const certificates =
    material.content.$case === 'x509CertificateChain'
      ? material.content.x509CertificateChain.certificates.map((c) => c.rawBytes)
      : material.content.$case === 'certificate'
        ? [material.content.certificate.rawBytes]
        : [];
  certificates.forEach((bytes, i) => owned(`certificate ${i}`, () => readCertificate(Buffer.from(bytes))));
  (material.timestampVerificationData?.rfc3161Timestamps ?? []).forEach((timestamp, i) =>
    owned(`RFC 3161 timestamp ${i}`, () => readTimestamp(Buffer.from(timestamp.signedTimestamp))),
  );
  parsable.add(bundle);
}

/** Bundles checkParsable has read (parseBundle's, then verifyBundle's look at the same object). */
const parsable = new WeakSet<Bundle>();

/**
 * A certificate of a signature, parsed in full as checkParsable reads a bundle's: a malformed
 * one is a BundleError naming `part`, never a TypeError later. For certificates that come
 * outside a bundle (a model signature's private-PKI chain).
 */
export function parseCertificate(der: Uint8Array, part: string): X509Certificate {
  let certificate!: X509Certificate;
  owned(part, () => {
    readCertificate(Buffer.from(der));
    certificate = X509Certificate.parse(Buffer.from(der));
  });
  return certificate;
}

/**
 * The most of each repeated part a bundle may carry. A signature needs one log entry and one
 * timestamp (a chain a few certificates, a checkpoint a few cosignatures); sigstore-js compares
 * the log entries and timestamps pairwise for duplicates before it verifies them, so 40,000 of
 * them in a 16 MiB bundle would keep it busy for hours.
 */
export const BUNDLE_LIMITS = { tlogEntries: 16, timestamps: 16, certificates: 16, dsseSignatures: 16, checkpointBytes: 64 * 1024 } as const;

function checkCounts(bundle: Bundle): void {
  const material = bundle.verificationMaterial;
  const too = (count: number, limit: number, what: string) => {
    if (count > limit) throw new BundleError(`the bundle carries ${count} ${what}, more than the ${limit} a signature can need`);
  };
  too(material.tlogEntries.length, BUNDLE_LIMITS.tlogEntries, 'transparency log entries');
  too(material.timestampVerificationData?.rfc3161Timestamps.length ?? 0, BUNDLE_LIMITS.timestamps, 'RFC 3161 timestamps');
  if (material.content.$case === 'x509CertificateChain') too(material.content.x509CertificateChain.certificates.length, BUNDLE_LIMITS.certificates, 'certificates');
  if (bundle.content.$case === 'dsseEnvelope') too(bundle.content.dsseEnvelope.signatures.length, BUNDLE_LIMITS.dsseSignatures, 'DSSE signatures');
  for (const entry of material.tlogEntries) {
    too(Buffer.byteLength(entry.inclusionProof?.checkpoint?.envelope ?? ''), BUNDLE_LIMITS.checkpointBytes, 'bytes of checkpoint');
  }
}

/** Runs `read` on part of the bundle; whatever it throws says the part is malformed. */
function owned(part: string, read: () => void): void {
  try {
    read();
  } catch (error) {
    throw new BundleError(`${part} does not parse: ${(error as Error).message}`, { cause: error });
  }
}

function readCertificate(der: Buffer<ArrayBuffer>): void {
  const certificate = X509Certificate.parse(der);
  // OpenSSL's reading too (subjects in messages, key usages: certificate-chain.ts): it refuses
  // DER that sigstore-js's reader lets through, such as a certificate under another outer tag.
  new NodeX509Certificate(der);
  validDate(certificate.notBefore, 'notBefore');
  validDate(certificate.notAfter, 'notAfter');
  for (const field of [certificate.serialNumber, certificate.issuer, certificate.subject, certificate.signatureValue, certificate.tbsCertificate.toDER()]) {
    if (!Buffer.isBuffer(field)) throw new Error('a field of the certificate is missing');
  }
  createPublicKey({ key: certificate.publicKey, format: 'der', type: 'spki' });
  if (certificate.signatureAlgorithm === undefined) throw new Error('unknown signature algorithm');
  for (const extension of certificate.extensions) {
    extension.subs[0]!.toOID();
    if (extension.subs[extension.subs.length - 1]!.value === undefined) throw new Error('an extension has no value');
  }
  void certificate.isCA; // basic constraints and key usage
  void certificate.extBasicConstraints?.pathLenConstraint;
  void certificate.extSubjectKeyID?.keyIdentifier;
  void certificate.extAuthorityKeyID?.keyIdentifier;
  void certificate.extSubjectAltName?.rfc822Name;
  for (const sct of certificate.extSCT?.signedCertificateTimestamps ?? []) validDate(sct.datetime, 'an SCT time');
  void certificate.extension(FULCIO_OID.issuer)?.valueObj.subs?.[0]?.value;
  certificateIdentity(certificate);
}

function readTimestamp(der: Buffer<ArrayBuffer>): void {
  const timestamp = RFC3161Timestamp.parse(der);
  validDate(timestamp.signingTime, 'genTime');
  for (const field of [timestamp.signerIssuer, timestamp.signerSerialNumber]) {
    if (!Buffer.isBuffer(field)) throw new Error('the signer identifier is missing');
  }
}

function validDate(date: Date, what: string): void {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new Error(`${what} is not a time`);
}
