import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  ValidationError,
  bundleFromJSON,
  type Bundle,
} from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { parseStrictJSON, type StrictJSONError } from '../json/strict-json.js';

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
 * be one we know, and every certificate must parse. (What a chain may carry beyond the leaf is
 * checked against the trusted root when verifying.)
 */
export function parseBundle(text: string | Uint8Array): Bundle {
  let json: unknown;
  try {
    json = parseStrictJSON(text);
  } catch (error) {
    throw new BundleError((error as StrictJSONError).message, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BundleError('not a JSON object');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !BUNDLE_MEDIA_TYPES.includes(mediaType)) {
    throw new BundleError(`unsupported bundle media type ${JSON.stringify(mediaType) ?? '(none)'}`);
  }
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new BundleError(`${error.message}: missing or invalid ${error.fields.join(', ')}`, { cause: error });
    }
    throw new BundleError(`not a Sigstore bundle: ${(error as Error).message}`, { cause: error });
  }
  checkCertificates(bundle);
  return bundle;
}

function checkCertificates(bundle: Bundle): void {
  const material = bundle.verificationMaterial.content;
  const raw =
    material.$case === 'x509CertificateChain'
      ? material.x509CertificateChain.certificates.map((c) => c.rawBytes)
      : material.$case === 'certificate'
        ? [material.certificate.rawBytes]
        : [];
  raw.forEach((bytes, i) => {
    try {
      X509Certificate.parse(Buffer.from(bytes));
    } catch (error) {
      throw new BundleError(`certificate ${i} does not parse: ${(error as Error).message}`, { cause: error });
    }
  });
}
