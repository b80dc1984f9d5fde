import { resolve } from 'node:path';
import { readBounded } from '../fs/read-bounded.js';
import { BundleError, parseBundle } from '../sigstore/bundle.js';
import { readInTotoStatement } from '../sigstore/in-toto.js';
import { SignatureVerificationError, verifyBundle, type Signer, type TrustAnchor, type TrustedRoots } from '../sigstore/verify-bundle.js';
import { provenanceFacts, SLSA_PROVENANCE_V1, type ProvenanceFacts } from '../trust/predicate-policy.js';
import type { KernelMetadata } from './metadata.js';
import { statedSource } from './source-provenance.js';

/**
 * Where a variant's SLSA provenance lives: beside its directory, `build/<variant>.provenance.sigstore.json`.
 * Not inside it: the digest in metadata.json covers every file of the variant (and the
 * reference verifier refuses a file it does not list), while the provenance signs metadata.json
 * itself, so it cannot be one of the files metadata.json lists.
 */
export function provenancePath(variantDir: string): string {
  return `${resolve(variantDir)}.provenance.sigstore.json`;
}

/** Largest provenance bundle read: real ones are a few kB. */
const MAX_PROVENANCE_BYTES = 16 * 1024 * 1024;

/** A variant's provenance that verified: who signed it and what it says. */
export interface VariantProvenance {
  path: string;
  signer: Signer;
  facts: ProvenanceFacts;
}

/**
 * Verifies a variant's provenance (sign --provenance wrote it): a DSSE bundle of an in-toto
 * statement of SLSA provenance v1 whose subject is the SHA-256 of the exact metadata.json bytes
 * that verified, signed by a signer the same policy trusts; and, where metadata.json states its
 * source commit, the provenance must name that commit as the source it built. Why not, or what
 * it says.
 */
export async function verifyVariantProvenance(
  variantDir: string,
  metadataBytes: Uint8Array,
  metadata: KernelMetadata,
  anchor: TrustAnchor,
  trustedRoot: TrustedRoots,
): Promise<{ value: VariantProvenance } | { reason: string }> {
  const path = provenancePath(variantDir);
  const read = await readBounded(path, MAX_PROVENANCE_BYTES);
  if ('missing' in read) return { reason: `no provenance: ${path} not found (kernelseal sign --provenance writes it)` };
  if ('error' in read) return { reason: read.error };
  let signer: Signer;
  let bundle;
  try {
    bundle = parseBundle(read.bytes);
    if (bundle.content.$case !== 'dsseEnvelope') return { reason: `${path}: signs a message, not an in-toto statement` };
    // Binds the statement to metadata.json: one of its subjects carries these bytes' SHA-256.
    signer = verifyBundle(bundle, { bytes: metadataBytes }, trustedRoot, anchor);
  } catch (error) {
    if (error instanceof BundleError || error instanceof SignatureVerificationError) return { reason: `${path}: ${error.message}` };
    throw error;
  }
  const envelope = bundle.content.dsseEnvelope;
  const statement = readInTotoStatement(envelope.payloadType, envelope.payload);
  if ('reason' in statement) return { reason: `${path}: ${statement.reason}` };
  const { predicateType, predicate } = statement.statement;
  if (predicateType !== SLSA_PROVENANCE_V1) return { reason: `${path}: predicate type ${JSON.stringify(predicateType)}, not SLSA provenance v1` };
  const facts = provenanceFacts({ predicateType: SLSA_PROVENANCE_V1, predicate });
  const stated = statedSource(metadata)?.commit;
  if (stated !== undefined && facts.sourceDigest?.toLowerCase() !== stated.toLowerCase()) {
    return { reason: `${path}: the provenance says the build resolved commit ${facts.sourceDigest ?? '(none)'}, metadata.json says ${stated}` };
  }
  return { value: { path, signer, facts } };
}
