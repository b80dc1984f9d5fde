import { p256, p384, p521 } from '@noble/curves/nist.js';
import { constants, publicDecrypt, timingSafeEqual, type KeyObject } from 'node:crypto';

export type HashName = 'sha256' | 'sha384' | 'sha512';

/** DER prefixes of PKCS#1 v1.5 DigestInfo (RFC 8017 section 9.2, note 1). */
const DIGEST_INFO_PREFIX: Record<HashName, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

const CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;

/**
 * Verifies `signature` over a message known only by its `digest` (the conformance protocol's
 * `sha256:<hex>` artifacts, or a wheel known by its hash). node:crypto always hashes the
 * message itself, so ECDSA is checked with @noble/curves on the digest as given, and RSA
 * PKCS#1 v1.5 by recovering the DigestInfo. Ed25519 signs the message, not a digest: it cannot
 * be verified this way, which is an error, never a pass.
 */
export function verifyPrehashed(key: KeyObject, hash: HashName, digest: Uint8Array, signature: Uint8Array): boolean {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const jwk = key.export({ format: 'jwk' });
      const curve = CURVES[jwk.crv as keyof typeof CURVES];
      if (!curve || !jwk.x || !jwk.y) throw new Error(`unsupported elliptic curve ${jwk.crv}`);
      const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
      try {
        return curve.verify(signature, digest, point, { prehash: false, lowS: false, format: 'der' });
      } catch {
        return false; // a signature that is not DER does not verify
      }
    }
    case 'rsa': {
      let recovered: Buffer;
      try {
        recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
      } catch {
        return false;
      }
      const expected = Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], 'hex'), digest]);
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    default:
      throw new Error(`a ${key.asymmetricKeyType} signature cannot be verified from a digest alone; give the artifact itself`);
  }
}
