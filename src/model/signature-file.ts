import { isJSONObject } from '../json/json-object.js';
import { parseStrictJSON } from '../json/strict-json.js';

/**
 * The largest signature file read: a statement lists every file (or shard) of the model, about
 * 250 bytes each, so this allows about a million.
 */
export const MAX_SIGNATURE_BYTES = 256 * 1024 * 1024;

/** How the signer is identified (OMS v1.0 section 4.1): a key, a chain of a private PKI, or a Fulcio certificate. */
export type SigningMaterial =
  | { kind: 'publicKey'; /** v1.1+: hex SHA-256 of the key's PEM */ hint?: string }
  | { kind: 'x509CertificateChain'; /** leaf first */ certificates: Buffer[] }
  | { kind: 'certificate'; certificate: Buffer };

/** A model signature file (`model.sig`): a Sigstore bundle holding a DSSE envelope. */
export interface ModelSignature {
  /** The bundle as read, for the Sigstore verifier (keyless signatures). */
  json: Record<string, unknown>;
  material: SigningMaterial;
  /** Transparency log entries: required for keyless signatures, absent or empty otherwise. */
  tlogEntries: number;
  envelope: { payload: Buffer; payloadType: string; signature: Buffer };
}

/** The signature file is not a model signature bundle; the message says what is wrong. */
export class SignatureFormatError extends Error {
  override readonly name = 'SignatureFormatError';
  readonly code = 'SIGNATURE_FORMAT_INVALID' as const;
}

const MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.bundle(\.v0\.[123]\+json|\+json;version=0\.[123])$/;

/**
 * Reads a model signature in every shape released model_signing versions wrote (v0.2 to v1.1)
 * and the specification allows: `publicKey` with `hint` or the older `rawBytes`/`keyDetails`;
 * `keyid` absent, empty or null; `tlogEntries` absent or empty for key and certificate
 * signatures. Nothing in it is trusted yet: this only checks the shape, strictly (one
 * signature, strict base64, no repeated keys).
 */
export function parseModelSignature(text: string): ModelSignature {
  const json = parseStrictJSON(text, ({ kind, detail }) =>
    new SignatureFormatError(kind === 'duplicate-key' ? `the bundle repeats the key ${JSON.stringify(detail)}` : `not JSON: ${detail}`),
  );
  const bundle = object(json, 'the bundle');
  if (typeof bundle.mediaType !== 'string' || !MEDIA_TYPE.test(bundle.mediaType)) {
    throw new SignatureFormatError(`not a Sigstore bundle (mediaType ${JSON.stringify(bundle.mediaType)})`);
  }
  if (bundle.messageSignature !== undefined) throw new SignatureFormatError('the bundle signs a message, not a DSSE envelope: it is not a model signature');
  const material = object(bundle.verificationMaterial, 'verificationMaterial');
  const envelope = object(bundle.dsseEnvelope, 'dsseEnvelope');
  if (typeof envelope.payloadType !== 'string') throw new SignatureFormatError('dsseEnvelope.payloadType is missing');
  if (!Array.isArray(envelope.signatures) || envelope.signatures.length !== 1) {
    throw new SignatureFormatError('dsseEnvelope must hold exactly one signature');
  }
  const signature = object(envelope.signatures[0], 'dsseEnvelope.signatures[0]');
  if (!(signature.keyid === undefined || signature.keyid === null || typeof signature.keyid === 'string')) {
    throw new SignatureFormatError('dsseEnvelope.signatures[0].keyid must be a string');
  }
  const tlogEntries = material.tlogEntries ?? [];
  if (!Array.isArray(tlogEntries)) throw new SignatureFormatError('verificationMaterial.tlogEntries must be an array');
  return {
    json: bundle,
    material: signingMaterial(material),
    tlogEntries: tlogEntries.length,
    envelope: {
      payload: base64(envelope.payload, 'dsseEnvelope.payload'),
      payloadType: envelope.payloadType,
      signature: base64(signature.sig, 'dsseEnvelope.signatures[0].sig'),
    },
  };
}

function signingMaterial(material: Record<string, unknown>): SigningMaterial {
  const kinds = (['publicKey', 'x509CertificateChain', 'certificate'] as const).filter((kind) => material[kind] !== undefined);
  if (kinds.length !== 1) throw new SignatureFormatError('verificationMaterial must hold exactly one of publicKey, x509CertificateChain, certificate');
  switch (kinds[0]!) {
    case 'publicKey': {
      const { hint } = object(material.publicKey, 'verificationMaterial.publicKey');
      if (hint !== undefined && typeof hint !== 'string') throw new SignatureFormatError('verificationMaterial.publicKey.hint must be a string');
      return { kind: 'publicKey', hint: hint === '' ? undefined : hint };
    }
    case 'x509CertificateChain': {
      const { certificates } = object(material.x509CertificateChain, 'verificationMaterial.x509CertificateChain');
      if (!Array.isArray(certificates) || certificates.length === 0) throw new SignatureFormatError('the certificate chain is empty');
      return {
        kind: 'x509CertificateChain',
        certificates: certificates.map((c, i) => base64(object(c, `certificate ${i}`).rawBytes, `certificate ${i}`)),
      };
    }
    case 'certificate': {
      const certificate = object(material.certificate, 'verificationMaterial.certificate');
      return { kind: 'certificate', certificate: base64(certificate.rawBytes, 'verificationMaterial.certificate') };
    }
  }
}

/** Standard base64 with padding, nothing else: lenient decoders let two texts mean one thing. */
function base64(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || value === '' || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new SignatureFormatError(`${what} is not base64`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw new SignatureFormatError(`${what} is not canonical base64`);
  return bytes;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (!isJSONObject(value)) throw new SignatureFormatError(`${what} is missing or not an object`);
  return value;
}
