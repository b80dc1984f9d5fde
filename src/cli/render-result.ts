import type { ModelVerificationResult } from '../model/verify-model.js';
import type { Signer } from '../sigstore/verify-bundle.js';
import type { VerificationResult } from '../verify/result.js';
import { formatBytes, plural } from './format.js';

/**
 * A variant's result as the reference `kernels verify-signature` words it, then (on success)
 * who signed it. The one place results become text.
 */
export function renderResult(result: VerificationResult): string {
  const v = result.path;
  switch (result.status) {
    case 'verified':
      return `✅ ${v}: kernel metadata is correctly signed\n   ${describeSigner(result.signer)}`;
    case 'signature-missing':
      return `❌ ${v}: cannot verify kernel integrity, signature not found`;
    case 'bundle-invalid':
      return `❌ ${v}: cannot verify kernel integrity, invalid signature bundle:\n${result.reason}`;
    case 'metadata-invalid':
      return `❌ ${v}: cannot verify kernel integrity, invalid metadata:\n${result.reason}`;
    case 'metadata-missing':
    case 'digest-missing':
      return `❌ ${v}: cannot verify kernel integrity, metadata does not have a digest`;
    case 'digest-mismatch':
      return [`❌ ${v}: kernel integrity check failed`, ...result.violations.map(String)].join('\n');
    case 'hash-failed':
      return `❌ ${v}: kernel integrity check failed\n${result.reason}`;
    case 'signature-invalid':
      return `❌ ${v}: metadata signature verification failed:\n${result.reason}`;
  }
}

/** "signed by <identity> (issuer <issuer>), repository ..., at <time>, log index N" */
export function describeSigner(signer: Signer): string {
  const parts =
    signer.method === 'key'
      ? [`signed with the key sha256:${signer.keyId}`]
      : [`signed by ${signer.identity ?? '(no identity)'}`, `issuer ${signer.issuer ?? '(none)'}`];
  if (signer.sourceRepository) parts.push(`repository ${signer.sourceRepository}`);
  if (signer.ref) parts.push(`ref ${signer.ref}`);
  if (signer.commit) parts.push(`commit ${signer.commit}`);
  if (signer.signedAt) parts.push(`at ${signer.signedAt}`);
  if (signer.logIndex) parts.push(`log index ${signer.logIndex}`);
  return parts.join(', ');
}

/** A result for --json: plain data, violations with their kind and message. */
export function resultToJSON(result: VerificationResult): Record<string, unknown> {
  const base = { path: result.path, ok: result.status === 'verified', status: result.status };
  switch (result.status) {
    case 'verified':
      return {
        ...base,
        signer: result.signer,
        metadata: { name: result.metadata.name, id: result.metadata.id, version: result.metadata.version, backend: result.metadata.backend },
        digest: { algorithm: result.digest.algorithm, files: result.digest.files.size },
      };
    case 'digest-mismatch':
      return { ...base, violations: result.violations.map((violation) => ({ ...violation, message: String(violation) })) };
    default:
      return { ...base, ...('reason' in result && result.reason !== undefined ? { reason: result.reason } : {}) };
  }
}

/** A model's result: what failed and why, or what was verified and who signed it. */
export function renderModelResult(result: ModelVerificationResult): string {
  const m = result.path;
  switch (result.status) {
    case 'verified': {
      const { serialization, resources } = result.manifest;
      const how = serialization.method === 'shards' ? `${serialization.hashType}, shards of ${formatBytes(serialization.shardSize!)}` : `${serialization.hashType}, files`;
      return `✅ ${m}: model signature verified: ${plural(resources.length, serialization.method === 'shards' ? 'shard' : 'file')}, ${formatBytes(result.bytes)} (${how})\n   ${describeSigner(result.signer)}`;
    }
    case 'signature-missing':
      return `❌ ${m}: cannot verify model integrity, signature not found: ${result.signaturePath}`;
    case 'bundle-invalid':
      return `❌ ${m}: cannot verify model integrity, invalid signature bundle ${result.signaturePath}:\n${result.reason}`;
    case 'signature-invalid':
      return `❌ ${m}: model signature verification failed:\n${result.reason}`;
    case 'statement-invalid':
      return `❌ ${m}: cannot verify model integrity, the signed statement is not a model manifest:\n${result.reason}`;
    case 'hash-failed':
      return `❌ ${m}: model integrity check failed\n${result.reason}`;
    case 'model-mismatch': {
      const unknown = result.violations.some((v) => v.kind === 'unknown-file');
      const hint = unknown ? ['(files the signature does not list fail verification: leave them out with --ignore-paths, or check only the signed files with --ignore-unsigned-files)'] : [];
      return [`❌ ${m}: model integrity check failed`, ...result.violations.map(String), ...hint].join('\n');
    }
  }
}

/** A model's result for --json. */
export function modelResultToJSON(result: ModelVerificationResult): Record<string, unknown> {
  const base = { path: result.path, signature: result.signaturePath, ok: result.status === 'verified', status: result.status };
  switch (result.status) {
    case 'verified': {
      const { modelName, serialization, resources } = result.manifest;
      return { ...base, signer: result.signer, model: { name: modelName, serialization, resources: resources.length, bytes: result.bytes } };
    }
    case 'model-mismatch':
      return { ...base, violations: result.violations.map((violation) => ({ ...violation, message: String(violation) })) };
    default:
      return { ...base, ...('reason' in result ? { reason: result.reason } : {}) };
  }
}
