import type { Digest } from '../digest/digest.js';
import type { DigestViolation } from '../digest/violations.js';
import type { KernelMetadata } from './metadata.js';
import type { Signer } from '../sigstore/verify-bundle.js';
import type { UnhashedEntry } from '../hashing/tree.js';
import type { ProvenanceFacts } from '../trust/predicate-policy.js';

/** What a verification did about Python bytecode it found, when asked to remove or allow it. */
export interface BytecodeHandled {
  action: 'removed' | 'allowed';
  /** The bytecode entries (files, and `__pycache__` directories as a whole), by path. */
  paths: string[];
}

/** The outcome of verifying one variant: one kind per step of docs/design.md section 5. */
export type VerificationResult = { path: string } & (
  | {
      status: 'verified';
      signer: Signer;
      metadata: KernelMetadata;
      digest: Digest;
      bytecode?: BytecodeHandled;
      /** The stated source disagrees with the signer's, and the caller chose a warning (sourceMismatch: 'warn'). */
      sourceMismatch?: string;
      /** The source was not compared: the policy declares the signer re-signs builds other runs made (Policy.resigners); says which and why. */
      sourceNotCompared?: string;
      /** The variant's SLSA provenance, when asked for (`provenance: true`): who signed it, what it says. */
      provenance?: { path: string; signer: Signer; facts: ProvenanceFacts };
    }
  /** 0. an entry of a kernel's build/ that is not a variant directory (a symlink, a file) */
  | { status: 'variant-invalid'; reason: string }
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
  /** 5b. the source metadata.json states is not the source the signing certificate names (src/kernels/source-provenance.ts) */
  | { status: 'source-mismatch'; reason: string; signer: Signer }
  /** 5c. asked for provenance (`provenance: true`), and it is missing or does not verify */
  | { status: 'provenance-invalid'; reason: string }
  /** 6. signed metadata without a digest */
  | { status: 'digest-missing' }
  /** 7. files on disk differ from the signed digest */
  | { status: 'digest-mismatch'; violations: DigestViolation[] }
  /** 7. the files could not be hashed at all (a dangling symlink, a file changing underneath) */
  | { status: 'hash-failed'; reason: string }
  /** 7. entries no digest can cover: a symlinked directory, a FIFO or device, a directory named *.pyc */
  | { status: 'entry-refused'; entries: UnhashedEntry[] }
  /** 7. the signed shared objects are built for another CPU architecture or system than the variant's name says */
  | { status: 'platform-mismatch'; reason: string }
  /** 8. Python bytecode, which Python would run instead of the signed sources (docs/design.md section 3) */
  | { status: 'bytecode-present'; paths: string[] }
);

export type VerificationStatus = VerificationResult['status'];

