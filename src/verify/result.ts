import type { Digest } from '../digest/digest.js';
import type { DigestViolation } from '../digest/violations.js';
import type { KernelMetadata } from '../metadata/metadata.js';
import type { Signer } from '../sigstore/verify-bundle.js';

/** The outcome of verifying one variant: one kind per step of design.md section 5. */
export type VerificationResult = { path: string } & (
  | { status: 'verified'; signer: Signer; metadata: KernelMetadata; digest: Digest }
  /** 1. no metadata.json.sigstore */
  | { status: 'signature-missing' }
  /** 2. the bundle is not a valid Sigstore bundle (or cannot be read) */
  | { status: 'bundle-invalid'; reason: string }
  /** 3. no metadata.json */
  | { status: 'metadata-missing' }
  /** 4. the signature over metadata.json fails, or the signer is not trusted */
  | { status: 'signature-invalid'; reason: string }
  /** 5. signed metadata that is not JSON or violates the schema (or, at step 3, is too large to read) */
  | { status: 'metadata-invalid'; reason: string }
  /** 6. signed metadata without a digest */
  | { status: 'digest-missing' }
  /** 7. files on disk differ from the signed digest */
  | { status: 'digest-mismatch'; violations: DigestViolation[] }
  /** 7. the files could not be hashed at all (a dangling symlink, a file changing underneath) */
  | { status: 'hash-failed'; reason: string }
);

export type VerificationStatus = VerificationResult['status'];

/** Omit over each member of a union (a result without its path, say). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
