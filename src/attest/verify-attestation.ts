import { provenanceFacts, SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1, type ProvenanceFacts } from '../trust/predicate-policy.js';
import type { InTotoStatement, Policy } from '../trust/policy.js';
import { readInTotoStatement } from '../sigstore/in-toto.js';
import { certificateIdentity } from '../trust/certificate-identity.js';
import { SignatureVerificationError, leafCertificate, verifyBundle, type Artifact, type SignatureVerificationErrorCode, type Signer, type TrustAnchor, type TrustedRoots } from '../sigstore/verify-bundle.js';
import { AttestationFileError, readAttestationFile, type AttestationFormat, type LoadedAttestation } from './attestation-file.js';
import { pinnedNpmKeys, type NpmKey } from './npm-keys.js';
import { publisherMismatch } from './pypi-publisher.js';

/** The predicate of the npm registry's publish attestation, signed with a registry key. */
export const NPM_PUBLISH_PREDICATE = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';

export interface VerifyAttestationOptions {
  /** The artifact's bytes, or its digest (sha256; sha512 for npm tarballs). */
  artifact: Artifact;
  /** Attestation files: bundles, JSON Lines of bundles, PEP 740 objects, PyPI provenance, npm documents. */
  bundles: readonly string[];
  /** One root, or several (public-good and GitHub's): each signature is checked against the one that issued its certificate. */
  trustedRoot: TrustedRoots;
  /** Who may sign with a certificate. Without one, only npm registry attestations can verify. */
  policy?: Policy;
  /** Predicate types accepted from certificate signers; default SLSA provenance v1 (and v0.2 in npm's attestations documents). */
  predicateTypes?: readonly string[];
  /** The npm registry's attestation keys; default the copy pinned in `@sigstore/tuf`. */
  npmKeys?: readonly NpmKey[];
}

/** One attestation that verified, and what it says. */
export interface VerifiedAttestation {
  source: string;
  format: AttestationFormat;
  predicateType: string;
  /** A certificate satisfying the policy, or an npm registry key. */
  trustedBy: 'policy' | 'npm-registry-key';
  signer: Signer;
  /** The build facts of SLSA provenance (empty for other predicates). */
  provenance: ProvenanceFacts;
  /** The npm registry key that signed (`SHA256:...`), for npm publish attestations. */
  registryKeyId?: string;
  /** The trusted publisher a PyPI provenance object names. */
  publisher?: Record<string, unknown>;
}

export interface AttestationFailure {
  /** The file, or the attestation in it, that failed. */
  source: string;
  /** Which check failed: the file could not be used, or a check of the signature, signer or statement. */
  code: AttestationFileError['code'] | SignatureVerificationErrorCode;
  reason: string;
}

/**
 * Reads every attestation of `files` and verifies each with `verify`: what verified, and each
 * failure with its source (a file that cannot be read, an attestation whose check threw
 * SignatureVerificationError). Anything else thrown is a bug and goes on up.
 */
export async function verifyEach<T>(files: readonly string[], verify: (attestation: LoadedAttestation) => T): Promise<{ verified: T[]; failures: AttestationFailure[] }> {
  const verified: T[] = [];
  const failures: AttestationFailure[] = [];
  for (const file of files) {
    let loaded: LoadedAttestation[];
    try {
      loaded = await readAttestationFile(file);
    } catch (error) {
      if (!(error instanceof AttestationFileError)) throw error;
      failures.push({ source: file, code: error.code, reason: error.message });
      continue;
    }
    for (const attestation of loaded) {
      try {
        verified.push(verify(attestation));
      } catch (error) {
        if (!(error instanceof SignatureVerificationError)) throw error;
        failures.push({ source: attestation.source, code: error.code, reason: error.message });
      }
    }
  }
  return { verified, failures };
}

export interface AttestationVerificationResult {
  /** True only when every attestation verified and the policy was met by at least one. */
  ok: boolean;
  verified: VerifiedAttestation[];
  failures: AttestationFailure[];
  /** Why the whole check failed when no single attestation is to blame. */
  reason?: string;
}

/**
 * Verifies every attestation in the given files over one artifact. Each one must pass on its
 * own (signature, transparency log or timestamp, the artifact's digest among its subjects, its
 * signer trusted, its predicate type accepted); one failure fails the whole check, and each
 * failure is reported with its file and reason: none is skipped. A certificate's signer must
 * satisfy `policy`; a key-signed attestation must be an npm publish attestation signed with a
 * registry key valid at the time it was logged. With a policy, at least one attestation must
 * have been trusted through it.
 */
export async function verifyAttestation(options: VerifyAttestationOptions): Promise<AttestationVerificationResult> {
  if (options.bundles.length === 0) throw new TypeError('verifyAttestation needs at least one attestation file');
  const { verified, failures } = await verifyEach(options.bundles, (attestation) => verifyOne(attestation, options));
  let reason: string | undefined;
  if (failures.length > 0) reason = `${failures.length} attestation${failures.length > 1 ? 's' : ''} did not verify`;
  else if (verified.length === 0) reason = 'no attestation';
  else if (options.policy && !verified.some((a) => a.trustedBy === 'policy')) {
    reason = `no attestation is signed by a signer the policy trusts (${options.policy.description}): only npm registry publish attestations`;
  }
  return { ok: reason === undefined, verified, failures, ...(reason ? { reason } : {}) };
}

function verifyOne(attestation: LoadedAttestation, options: VerifyAttestationOptions): VerifiedAttestation {
  const fail = (code: SignatureVerificationErrorCode, reason: string): never => {
    throw new SignatureVerificationError(code, reason);
  };
  const { bundle } = attestation;
  if (bundle.content.$case !== 'dsseEnvelope') return fail('NOT_AN_ATTESTATION', 'the bundle signs a message, not an in-toto attestation (DSSE envelope)');
  const envelope = bundle.content.dsseEnvelope;
  // Read before the signature is checked only to hand it to the policy, which verifyBundle
  // consults once the signature holds; nothing from it counts unless verifyBundle returns.
  const parsed = parseStatement(envelope.payloadType, envelope.payload);
  const material = bundle.verificationMaterial.content;
  let anchor: TrustAnchor;
  let trustedBy: VerifiedAttestation['trustedBy'];
  let registryKeyId: string | undefined;
  if (material.$case === 'publicKey') {
    const keys = options.npmKeys ?? pinnedNpmKeys();
    const key = keys.find((k) => k.keyId === material.publicKey.hint);
    if (!key) return fail('KEY_ERROR', `signed with the key ${JSON.stringify(material.publicKey.hint)}, which is not an npm registry attestation key`);
    anchor = { key: key.publicKey, validFor: key.validFor };
    registryKeyId = key.keyId;
    trustedBy = 'npm-registry-key';
  } else {
    const policy = options.policy;
    if (!policy) return fail('POLICY_REQUIRED', 'signed with a certificate: say who is trusted (--owner, --repo, --signer-workflow, --certificate-identity or --policy)');
    const statement = 'statement' in parsed ? parsed.statement : undefined;
    const { description, pinsIssuer, pinsSigner, unpinnedIssuers } = policy;
    anchor = { policy: { description, pinsIssuer, pinsSigner, unpinnedIssuers, check: (identity) => policy.check(identity, statement) } };
    trustedBy = 'policy';
  }
  let signer: Signer;
  try {
    signer = verifyBundle(bundle, options.artifact, options.trustedRoot, anchor);
  } catch (error) {
    // A policy on the predicate fails for want of a statement: the statement's own fault is the reason.
    if (error instanceof SignatureVerificationError && error.code === 'POLICY_ERROR' && 'error' in parsed) fail('STATEMENT_ERROR', parsed.error);
    throw error;
  }
  if ('error' in parsed) return fail('STATEMENT_ERROR', parsed.error);
  const { statement } = parsed;
  if (attestation.declaredPredicateType !== undefined && attestation.declaredPredicateType !== statement.predicateType) {
    fail('PREDICATE_TYPE_ERROR', `listed as ${JSON.stringify(attestation.declaredPredicateType)} but the signed statement says ${JSON.stringify(statement.predicateType)}`);
  }
  if (attestation.publisher) {
    const mismatch = material.$case === 'publicKey' ? 'a publisher claim needs a certificate' : publisherMismatch(attestation.publisher, certificateIdentity(leafCertificate(bundle)));
    if (mismatch) fail('PUBLISHER_ERROR', mismatch);
  }
  if (trustedBy === 'npm-registry-key') {
    if (statement.predicateType !== NPM_PUBLISH_PREDICATE) {
      fail('PREDICATE_TYPE_ERROR', `an npm registry key signed a ${JSON.stringify(statement.predicateType)} statement; it signs only ${NPM_PUBLISH_PREDICATE}`);
    }
  } else {
    // npm's documents carry SLSA v0.2 provenance for packages published before v1 (npm audit
    // signatures accepts both there); elsewhere v1 unless asked.
    const accepted = options.predicateTypes ?? (attestation.format === 'npm' ? [SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02] : [SLSA_PROVENANCE_V1]);
    if (!accepted.includes(statement.predicateType)) {
      fail('PREDICATE_TYPE_ERROR', `predicate type ${JSON.stringify(statement.predicateType)} is not one asked for (${accepted.join(', ')}); accept it with --predicate-type`);
    }
  }
  return {
    source: attestation.source,
    format: attestation.format,
    predicateType: statement.predicateType,
    trustedBy,
    signer,
    provenance: provenanceFacts(statement),
    ...(registryKeyId ? { registryKeyId } : {}),
    ...(attestation.publisher ? { publisher: attestation.publisher } : {}),
  };
}

/** The in-toto statement of a DSSE payload, strictly read; or why it is not one. */
function parseStatement(payloadType: string, payload: Buffer): { statement: InTotoStatement } | { error: string } {
  const read = readInTotoStatement(payloadType, payload);
  if ('reason' in read) return { error: read.reason };
  const { statement } = read;
  if (typeof statement.predicateType !== 'string' || statement.predicateType === '') return { error: 'the in-toto statement has no predicateType' };
  return { statement: { predicateType: statement.predicateType, predicate: statement.predicate } };
}
