import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DigestBackend, HashOptions } from '../hashing/backend.js';
import { DigestError } from '../hashing/errors.js';
import { readBounded } from '../fs/read-bounded.js';
import { pinnedTrustedRoot } from '../sigstore/trusted-root.js';
import { SignatureVerificationError, type Signer, type TrustAnchor, type TrustedRoots } from '../sigstore/verify-bundle.js';
import type { DistributiveOmit } from '../types.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../sigstore/dsse.js';
import { hashModel } from './hash-model.js';
import { DEFAULT_IGNORE_PATHS, IgnorePathError, modelRelativePaths, signatureInsideModel } from './ignore-paths.js';
import { parseShardName, resourcePath, type ModelManifest, type Resource } from './manifest.js';
import { ModelFilesError } from './model-files.js';
import { compareResources, type ModelViolation } from './model-violations.js';
import { MAX_SIGNATURE_BYTES, SignatureFormatError, parseModelSignature, type ModelSignature } from './signature-file.js';
import { StatementError, parseStatement } from './statement.js';
import { verifyModelSignature, type VerifiedModelSignature } from './verify-signature.js';

/** The outcome of verifying a model: one kind per step, in the order they run. */
export type ModelVerificationResult = { path: string; signaturePath: string } & (
  | { status: 'verified'; signer: Signer; manifest: ModelManifest; bytes: number }
  /** 1. no signature file */
  | { status: 'signature-missing' }
  /** 2. the signature file is not a model signature bundle (or cannot be read) */
  | { status: 'bundle-invalid'; reason: string }
  /** 3. the signature does not verify, or its signer is not trusted */
  | { status: 'signature-invalid'; reason: string }
  /** 4. the signed statement is not a model manifest (OMS v1.0 or model_signing v0.2) */
  | { status: 'statement-invalid'; reason: string }
  /** 5. the model could not be hashed (a symlink the signature does not allow, a FIFO, ...) */
  | { status: 'hash-failed'; reason: string }
  /** 6. files on disk differ from the signed manifest */
  | { status: 'model-mismatch'; violations: ModelViolation[] }
);

export type VerifyModelOptions = TrustAnchor &
  HashOptions & {
    /** The signature file; default `<model>/model.sig` for a directory, `<model>.sig` for a file. */
    signature?: string;
    /** For keyless signatures; default: the public-good root pinned in kernelseal. */
    trustedRoot?: TrustedRoots;
    /** More paths to leave out, besides those the signature records (model-relative). */
    ignorePaths?: readonly string[];
    /** Check only the files the signature lists; other files do not fail verification. */
    ignoreUnsignedFiles?: boolean;
    /** Leave out .git, .gitattributes, .github, .gitignore at the root (default true). */
    ignoreGitPaths?: boolean;
    backend?: DigestBackend;
  };

/**
 * Verifies a model signed with OpenSSF Model Signing (model_signing v0.2 to v1.1, OMS v1.0):
 * reads the signature file, verifies its signature and signer (verifyModelSignature), only then
 * reads the signed statement, hashes the model as the statement says (serialization, symlink
 * policy, recorded ignore paths, plus `ignorePaths`, the default git paths and the signature
 * file itself) and compares every file. Never throws for a model that does not verify: the
 * result says why.
 */
export async function verifyModel(modelPath: string, options: VerifyModelOptions): Promise<ModelVerificationResult> {
  const isDirectory = await stat(modelPath).then(
    (info) => info.isDirectory(),
    () => true,
  );
  const signaturePath = options.signature ?? defaultSignaturePath(modelPath, isDirectory);
  const result = (outcome: DistributiveOmit<ModelVerificationResult, 'path' | 'signaturePath'>) =>
    ({ path: modelPath, signaturePath, ...outcome }) as ModelVerificationResult;

  const read = await readBounded(signaturePath, MAX_SIGNATURE_BYTES);
  if ('missing' in read) return result({ status: 'signature-missing' });
  if ('error' in read) return result({ status: 'bundle-invalid', reason: read.error });
  let signature: ModelSignature;
  try {
    signature = parseModelSignature(Buffer.from(read.bytes).toString('utf8'));
  } catch (error) {
    if (!(error instanceof SignatureFormatError)) throw error;
    return result({ status: 'bundle-invalid', reason: error.message });
  }
  let verified: VerifiedModelSignature;
  try {
    verified = verifyModelSignature(signature, options, options.trustedRoot ?? pinnedTrustedRoot());
  } catch (error) {
    // Only a signature that does not hold is a verdict; a caller's mistake (no trust anchor,
    // a TypeError) or a bug is not one (docs/architecture.md, Errors).
    if (!(error instanceof SignatureVerificationError)) throw error;
    return result({ status: 'signature-invalid', reason: error.message });
  }

  let expected: ModelManifest;
  try {
    if (signature.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new StatementError(`the payload type is ${JSON.stringify(signature.envelope.payloadType)}, not an in-toto statement`);
    expected = parseStatement(signature.envelope.payload, { legacyEncoding: verified.legacyEncoding });
    if (expected.resources.length === 0) throw new StatementError('the signature covers no file');
  } catch (error) {
    if (!(error instanceof StatementError)) throw error;
    return result({ status: 'statement-invalid', reason: error.message });
  }

  let actual: Resource[];
  let bytes: number;
  try {
    // Ignore paths are paths inside a directory: a single-file model has none.
    const ignorePaths = isDirectory ? [...(expected.serialization.ignorePaths ?? []), ...(await modelRelativePaths(modelPath, options.ignorePaths ?? []))] : [];
    if (isDirectory && options.ignoreGitPaths !== false) ignorePaths.push(...DEFAULT_IGNORE_PATHS);
    const signatureInside = await signatureInsideModel(modelPath, signaturePath);
    if (signatureInside !== undefined) ignorePaths.push(signatureInside);
    // A single file is the whole model: there is nothing unsigned to leave out.
    const only = options.ignoreUnsignedFiles && isDirectory ? new Set(expected.resources.map((r) => resourcePath(r.name, expected.serialization.method))) : undefined;
    const hashed = await hashModel(modelPath, { ...options, serialization: expected.serialization, ignorePaths, only });
    actual = isDirectory ? hashed.resources : singleFileNames(hashed.resources, expected, basename(modelPath));
    bytes = hashed.bytes;
  } catch (error) {
    // A verdict about the model; cancellation or a bug is not one.
    if (error instanceof DigestError || error instanceof ModelFilesError || error instanceof IgnorePathError) {
      return result({ status: 'hash-failed', reason: error.message });
    }
    throw error;
  }
  const violations = compareResources(expected.resources, actual, expected.serialization.method);
  if (violations.length > 0) return result({ status: 'model-mismatch', violations });
  return result({ status: 'verified', signer: verified.signer, manifest: expected, bytes });
}

/** Where a model's signature lives unless told: inside a directory, next to a single file. */
export function defaultSignaturePath(modelPath: string, isDirectory: boolean): string {
  return isDirectory ? join(modelPath, 'model.sig') : `${modelPath}.sig`;
}

/**
 * A single file is named `.` by the reference and by its own base name by the specification
 * (and the Go port): when the signature uses the base name, so does the comparison.
 */
function singleFileNames(actual: Resource[], expected: ModelManifest, name: string): Resource[] {
  const method = expected.serialization.method;
  const usesBaseName = expected.resources.every((r) => resourcePath(r.name, method) === name);
  if (!usesBaseName) return actual;
  return actual.map((r) => {
    const shard = method === 'shards' ? parseShardName(r.name) : undefined;
    return { ...r, name: shard ? `${name}:${shard.start}:${shard.end}` : name };
  });
}

