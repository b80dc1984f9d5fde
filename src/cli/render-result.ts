import type { ModelVerificationResult } from '../model/verify-model.js';
import type { Signer } from '../sigstore/verify-bundle.js';
import type { BytecodeHandled, VerificationResult } from '../kernels/result.js';
import { describeUnhashed } from '../hashing/unhashed-entries.js';
import { formatBytes, plural, printable } from './format.js';

/**
 * A variant's result as the reference `kernels verify-signature` words it, then (on success)
 * who signed it. The one place results become text.
 */
export function renderResult(result: VerificationResult): string {
  const v = printable(result.path);
  switch (result.status) {
    case 'verified':
      return [
        `✅ ${v}: kernel metadata is correctly signed`,
        `   ${describeSigner(result.signer)}`,
        ...describePublisher(result.signer),
        ...describeBytecode(v, result.bytecode),
        ...(result.provenance ? describeProvenance(result.provenance) : []),
        ...(result.sourceMismatch ? [`⚠️  ${v}: source mismatch kept (--allow-source-mismatch): ${printable(result.sourceMismatch)}`] : []),
      ].join('\n');
    case 'signature-missing':
      return `❌ ${v}: cannot verify kernel integrity, signature not found`;
    case 'bundle-invalid':
      return `❌ ${v}: cannot verify kernel integrity, invalid signature bundle:\n${printable(result.reason)}`;
    case 'metadata-invalid':
      return `❌ ${v}: cannot verify kernel integrity, invalid metadata:\n${printable(result.reason)}`;
    case 'metadata-missing':
    case 'digest-missing':
      return `❌ ${v}: cannot verify kernel integrity, metadata does not have a digest`;
    case 'digest-mismatch':
      return [`❌ ${v}: kernel integrity check failed`, ...result.violations.map((violation) => printable(String(violation)))].join('\n');
    case 'hash-failed':
      return `❌ ${v}: kernel integrity check failed\n${printable(result.reason)}`;
    case 'entry-refused':
      return [
        `❌ ${v}: kernel integrity check failed, entries the signed digest cannot cover:`,
        ...result.entries.map((entry) => `${printable(entry.path)}: ${describeUnhashed(entry.reason)}`),
      ].join('\n');
    case 'platform-mismatch':
      return `❌ ${v}: kernel integrity check failed, built for another platform than its name says:\n${printable(result.reason)}`;
    case 'bytecode-present':
      return [
        `❌ ${v}: Python bytecode that no signature covers (Python would run it instead of the signed sources):`,
        ...result.paths.map(printable),
        '(remove it with --remove-bytecode: Python rebuilds it from the verified sources; --allow-bytecode keeps it, unverified)',
      ].join('\n');
    case 'signature-invalid':
      return `❌ ${v}: metadata signature verification failed:\n${printable(result.reason)}`;
    case 'provenance-invalid':
      return `❌ ${v}: provenance verification failed:\n${printable(result.reason)}`;
    case 'source-mismatch':
      return [
        `❌ ${v}: the signed metadata's source is not the signer's:`,
        printable(result.reason),
        `   ${describeSigner(result.signer)}`,
        '(a workflow that signs builds another run made: verify them with --allow-source-mismatch)',
      ].join('\n');
    case 'variant-invalid':
      return `❌ ${v}: not a kernel variant: ${printable(result.reason)}`;
  }
}

/** With a publisher list: the entry that trusted the signer, its note, and the list's version. */
function describePublisher(signer: Signer): string[] {
  const entry = signer.publisher;
  if (!entry) return [];
  const note = entry.note === undefined ? '' : ` (${printable(entry.note)})`;
  const version = entry.listVersion === undefined ? '' : ` version ${entry.listVersion}`;
  return [`   trusted by the publisher list ${printable(entry.list)}${version}, entry ${printable(JSON.stringify(entry.repos))}${note}`];
}

/** A variant's verified provenance: the build it describes. */
function describeProvenance(provenance: NonNullable<Extract<VerificationResult, { status: 'verified' }>['provenance']>): string[] {
  const f = provenance.facts;
  return [
    `   provenance ${printable(provenance.path)}: ${printable(describeSigner(provenance.signer))}`,
    `     built from ${printable(f.workflowRepository ?? '(unknown)')} @ ${printable(f.sourceDigest ?? '(unknown)')}${f.workflowRef ? ` (${printable(f.workflowRef)})` : ''} by ${printable(f.workflowPath ?? '(unknown workflow)')}, builder ${printable(f.builderId ?? '(unknown)')}${f.invocationId ? `, run ${printable(f.invocationId)}` : ''}`,
  ];
}

/** What was done about bytecode on a verified variant: never a bare ✅ when some was kept. */
function describeBytecode(v: string, bytecode: BytecodeHandled | undefined): string[] {
  if (!bytecode) return [];
  const paths = bytecode.paths.map(printable).join(', ');
  return bytecode.action === 'removed'
    ? [`   removed Python bytecode (Python rebuilds it from the verified sources): ${paths}`]
    : [`⚠️  ${v}: Python bytecode kept and NOT verified (--allow-bytecode): ${paths}`];
}

/** "signed by <identity> (issuer <issuer>), repository ..., at <time>, log index N" */
export function describeSigner(signer: Signer): string {
  const parts =
    signer.method === 'key'
      ? [`signed with the key sha256:${signer.keyId}`]
      : [`signed by ${printable(signer.identity ?? '(no identity)')}`, `issuer ${printable(signer.issuer ?? '(none)')}`];
  if (signer.sourceRepository) parts.push(`repository ${printable(signer.sourceRepository)}`);
  if (signer.ref) parts.push(`ref ${printable(signer.ref)}`);
  if (signer.commit) parts.push(`commit ${printable(signer.commit)}`);
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
        ...(result.bytecode ? { bytecode: result.bytecode } : {}),
        ...(result.sourceMismatch ? { sourceMismatch: result.sourceMismatch } : {}),
        ...(result.provenance ? { provenance: result.provenance } : {}),
      };
    case 'entry-refused':
      return { ...base, entries: result.entries };
    case 'bytecode-present':
      return { ...base, bytecode: result.paths };
    case 'digest-mismatch':
      return { ...base, violations: result.violations.map((violation) => ({ ...violation, message: String(violation) })) };
    default:
      return { ...base, ...('reason' in result && result.reason !== undefined ? { reason: result.reason } : {}) };
  }
}

/** A model's result: what failed and why, or what was verified and who signed it. */
export function renderModelResult(result: ModelVerificationResult): string {
  const m = printable(result.path);
  switch (result.status) {
    case 'verified': {
      const { serialization, resources } = result.manifest;
      const how = serialization.method === 'shards' ? `${serialization.hashType}, shards of ${formatBytes(serialization.shardSize!)}` : `${serialization.hashType}, files`;
      return `✅ ${m}: model signature verified: ${plural(resources.length, serialization.method === 'shards' ? 'shard' : 'file')}, ${formatBytes(result.bytes)} (${how})\n   ${describeSigner(result.signer)}`;
    }
    case 'signature-missing':
      return `❌ ${m}: cannot verify model integrity, signature not found: ${printable(result.signaturePath)}`;
    case 'bundle-invalid':
      return `❌ ${m}: cannot verify model integrity, invalid signature bundle ${printable(result.signaturePath)}:\n${printable(result.reason)}`;
    case 'signature-invalid':
      return `❌ ${m}: model signature verification failed:\n${printable(result.reason)}`;
    case 'statement-invalid':
      return `❌ ${m}: cannot verify model integrity, the signed statement is not a model manifest:\n${printable(result.reason)}`;
    case 'hash-failed':
      return `❌ ${m}: model integrity check failed\n${printable(result.reason)}`;
    case 'model-mismatch': {
      const unknown = result.violations.some((v) => v.kind === 'unknown-file');
      const hint = unknown ? ['(files the signature does not list fail verification: leave them out with --ignore-paths, or check only the signed files with --ignore-unsigned-files)'] : [];
      return [`❌ ${m}: model integrity check failed`, ...result.violations.map((violation) => printable(String(violation))), ...hint].join('\n');
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
