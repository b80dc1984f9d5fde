import { type BenchReport, renderTable } from './library/bench-report.js';
// Types only from the verifying library: every command renders through here, and `digest` must not load it (library/hashing.ts).
import type { AttestationVerificationResult, VerifiedAttestation, ReleaseVerificationResult, VerifiedPublisherList, RepositoryCheck, PublisherEntry, Digest, DigestViolation, FetchedKernel, KernelLock, BytecodeHandled, VerificationResult, ModelManifest, ModelVerificationResult, Signer } from './library/verifying.js';
import { describeUnhashed } from './library/hashing.js';
import type { Signed } from './library/signing.js';
import { formatBytes, formatRate, plural, printable, printableLines } from './format.js';

/**
 * Every outcome of every command, as data: what `Output` (src/cli/output.ts) prints as text or
 * as JSON. The one place results become words (docs/architecture.md); the JSON shape is
 * docs/output.schema.json.
 */
export type CliResult =
  /** verify: one variant (skipped by --filter-unsigned or --filter-no-digest: `skipped` says which) */
  | { kind: 'variant'; result: VerificationResult; checked?: Checked; skipped?: string }
  /** fetch: the variant handed back (verified, or unsigned and allowed) */
  | { kind: 'fetched'; subject: string; kernel: FetchedKernel; checked?: Checked }
  /** fetch: the variant refused */
  | { kind: 'fetch-refused'; subject: string; result: VerificationResult; reason: string }
  | { kind: 'model'; result: ModelVerificationResult }
  | { kind: 'bundle'; subject: string; bundle: string; outcome: BundleOutcome; checked?: Checked }
  | { kind: 'attestations'; subject: string; result: AttestationVerificationResult; policy?: string; checked?: Checked }
  /** verify-release: `subject` is `owner/name@tag` */
  | { kind: 'release'; subject: string; result: ReleaseVerificationResult }
  | { kind: 'signed-variant'; subject: string; algorithm: string; files: number; signer: Signer; metadata: string; bundle: string; provenance?: string }
  | { kind: 'signed-blob'; subject: string; signer: Signer; bundle: string }
  | { kind: 'signed-model'; subject: string; signature: string; manifest: ModelManifest; bytes: number }
  | { kind: 'attested'; subject: string; predicateType: string; subjects: Array<{ name: string; digest: { sha256: string } }>; signer: Signer; written: string[] }
  | { kind: 'not-signed'; subject: string; reason: string }
  /** attest: the provenance was not signed (outside GitHub Actions, a service failed) */
  | { kind: 'not-attested'; subject: string; reason: string }
  /** digest: `prefix` names the variant when a kernel directory stood for several */
  | { kind: 'digest'; subject: string; digest: Digest; bytes: number; seconds: number; backend: string; prefix?: string }
  | { kind: 'digest-check'; subject: string; algorithm: string; files: number; bytes: number; violations: DigestViolation[] }
  | { kind: 'bench'; subject: string; report: BenchReport }
  /** publishers show: a list as this machine verifies it */
  | { kind: 'publisher-list'; subject: string; list: VerifiedPublisherList }
  /** publishers check: a list's folder read as a client would, before it is uploaded */
  | ({ kind: 'publisher-check'; subject: string } & RepositoryCheck)
  /** publishers init, add, remove, revoke, sign, rotate-key: what a maintainer command changed in a list's folder */
  | { kind: 'list-changed'; subject: string; change: ListChange }
  /** lock: a kernel pinned in a kernels.lock, with who signed it */
  | { kind: 'locked'; subject: string; lock: KernelLock; file: string };

/** What a maintainer command did to a publisher list's folder (src/cli/publishers/). */
export type ListChange =
  | { action: 'made'; rootThreshold: number; keys: Array<{ id: string; roles: string[]; file: string }>; signed: Signed; keysDir: string }
  | { action: 'added' | 'removed'; repos: string }
  | { action: 'revoked'; repos: string; at: string; reason: string }
  | { action: 'signed'; signed: Signed }
  | { action: 'key-rotated'; replaced: string; key: string; file: string; roles: string[]; signed: Signed; retired?: string };

/** How the files behind a ✅ were checked: re-hashed now, hashed as they downloaded, vouched for by a receipt, or known only by a digest. */
export type Checked =
  | { how: 'hashed'; files: number; bytes: number }
  | { how: 'streamed' | 'receipt'; files: number }
  | { how: 'digest-given' };

export type BundleOutcome =
  | { status: 'verified'; signer: Signer }
  | { status: 'signature-missing' | 'bundle-invalid' | 'signature-invalid'; reason: string };

/** Whether a result is a success: what the exit code and the JSON `ok` say. */
export function isOk(r: CliResult): boolean {
  switch (r.kind) {
    case 'variant':
    case 'model':
      return r.result.status === 'verified';
    case 'fetch-refused':
    case 'not-signed':
    case 'not-attested':
      return false;
    case 'bundle':
      return r.outcome.status === 'verified';
    case 'attestations':
    case 'release':
      return r.result.ok;
    case 'digest-check':
      return r.violations.length === 0;
    case 'publisher-check':
      return r.problems.length === 0;
    default:
      return true;
  }
}

/** A result as text: `stdout` for what the command produces, `stderr` for status lines (fetch prints the path alone on stdout). */
export function renderText(r: CliResult): { stdout?: string; stderr?: string } {
  switch (r.kind) {
    case 'variant':
      return { stdout: renderResult(r.result, r.checked) };
    case 'fetched':
      return { stderr: renderFetched(r.subject, r.kernel, r.checked), stdout: r.kernel.path };
    case 'fetch-refused':
      return { stderr: renderResult({ ...r.result, path: r.subject }) };
    case 'model':
      return { stdout: renderModelResult(r.result) };
    case 'bundle': {
      const s = printable(r.subject);
      return { stdout: r.outcome.status === 'verified' ? `✅ ${s}: signature verified${describeChecked(r.checked, 'artifact')}\n   ${describeSigner(r.outcome.signer)}` : `❌ ${s}: ${printable(r.outcome.reason)}` };
    }
    case 'attestations':
      return { stdout: renderAttestations(r.subject, r.result, r.policy, r.checked) };
    case 'release':
      return { stdout: renderRelease(r.subject, r.result) };
    case 'signed-variant':
      return {
        stdout: [
          `✅ ${printable(r.subject)}: signed the ${r.algorithm} digest of ${plural(r.files, 'file')}`,
          `   ${describeSigner(r.signer)}`,
          `   bundle: ${printable(r.bundle)}`,
          ...(r.provenance ? [`   provenance: ${printable(r.provenance)}`] : []),
        ].join('\n'),
      };
    case 'signed-blob':
      return { stdout: `✅ ${printable(r.subject)}: signed\n   ${describeSigner(r.signer)}\n   bundle: ${printable(r.bundle)}` };
    case 'signed-model': {
      const { serialization, resources } = r.manifest;
      const count = plural(resources.length, serialization.method === 'shards' ? 'shard' : 'file');
      return { stdout: `✅ ${printable(r.subject)}: signed ${count}, ${formatBytes(r.bytes)} (${serialization.hashType}, ${serialization.method})\n   signature: ${printable(r.signature)}` };
    }
    case 'attested':
      return {
        stdout: [
          `✅ attested ${r.predicateType}`,
          ...r.subjects.map((s) => `   ${printable(`${s.name} sha256:${s.digest.sha256}`)}`),
          `   ${describeSigner(r.signer)}`,
          ...r.written.map((w) => `   wrote ${printable(w)}`),
        ].join('\n'),
      };
    case 'not-signed':
      return { stdout: `❌ ${printable(r.subject)}: not signed:\n${printableLines(r.reason)}` };
    case 'not-attested':
      return { stdout: `❌ not attested: ${printable(r.reason)}` };
    case 'digest': {
      const lines = [...r.digest.files].map(([path, hash]) => `${hash}  ${printable(r.prefix === undefined ? path : `${r.prefix}/${path}`)}`);
      const where = r.prefix === undefined ? '' : ` ${printable(r.prefix)}`;
      lines.push(`${r.digest.algorithm}${where}: ${plural(r.digest.files.size, 'file')}, ${formatBytes(r.bytes)} in ${r.seconds.toFixed(2)} s (${formatRate(r.bytes, r.seconds)}, ${r.backend} backend)`);
      return { stdout: lines.join('\n') };
    }
    case 'digest-check':
      return {
        stdout:
          r.violations.length === 0
            ? `✅ ${printable(r.subject)}: all ${plural(r.files, 'file')} (${formatBytes(r.bytes)}) re-hashed and match the ${r.algorithm} digest in metadata.json (the signature was not checked: use 'kernelseal verify')`
            : [`❌ ${printable(r.subject)}: kernel integrity check failed`, ...r.violations.map((v) => printable(String(v)))].join('\n'),
      };
    case 'bench':
      return { stdout: renderTable(r.report) };
    case 'publisher-list':
      return { stdout: describeList(r.list) };
    case 'publisher-check':
      return {
        stdout: [
          ...(r.list ? [describeList(r.list)] : []),
          ...r.warnings.map((warning) => `⚠️  ${printable(warning)}`),
          ...r.problems.map((problem) => `❌ ${printable(problem)}`),
          ...(r.problems.length === 0 ? [`✅ ${printable(r.subject)}: a client accepts this list`] : []),
        ].join('\n'),
      };
    case 'list-changed':
      return { stdout: describeChange(r.subject, r.change) };
    case 'locked': {
      const { lock } = r;
      const signers = lock.identities ?? [];
      return {
        stdout: [
          `✅ ${printable(r.subject)}: locked ${plural(Object.keys(lock.variants).length, 'variant')} in ${printable(r.file)}`,
          ...(signers.length === 0 ? ['   signed by: no one (no variant is signed): locked by hashes alone'] : signers.map((id) => `   signed by: ${printable([id.sourceRepository, id.workflow && `workflow ${id.workflow}`, id.ref && `ref ${id.ref}`, `issuer ${id.issuer}`].filter(Boolean).join(', '))}`)),
          ...(lock.publisherList ? [`   publisher list: root ${lock.publisherList.rootDigest}, targets version ${lock.publisherList.minTargetsVersion} or later`] : []),
        ].join('\n'),
      };
    }
  }
}

/** A result as the JSON of docs/output.schema.json: `subject`, `ok`, `status`, then what the kind adds. */
export function resultJSON(r: CliResult): Record<string, unknown> {
  const ok = isOk(r);
  switch (r.kind) {
    case 'variant':
      return { ...variantJSON(r.result), ...(r.checked ? { checked: r.checked } : {}), ...(r.skipped ? { skipped: r.skipped } : {}) };
    case 'fetched': {
      const { kernel } = r;
      return {
        subject: r.subject,
        ok,
        status: kernel.verified ? 'verified' : 'unsigned-allowed',
        path: kernel.path,
        repoId: kernel.repoId,
        revision: kernel.revision,
        commit: kernel.commit,
        variant: kernel.variant,
        ...(kernel.signer ? { signer: kernel.signer } : {}),
        ...(kernel.metadata ? { metadata: metadataSummary(kernel.metadata) } : {}),
        ...(kernel.digest ? { digest: { algorithm: kernel.digest.algorithm, files: kernel.digest.files.size } } : {}),
        fromReceipt: kernel.fromReceipt,
        revisionSource: kernel.revisionSource,
        ...(kernel.sourceNotCompared ? { sourceNotCompared: kernel.sourceNotCompared } : {}),
        ...(r.checked ? { checked: r.checked } : {}),
      };
    }
    case 'fetch-refused':
      return { ...variantJSON({ ...r.result, path: r.subject }), reason: r.reason };
    case 'model':
      return modelJSON(r.result);
    case 'bundle':
      return { subject: r.subject, ok, bundle: r.bundle, ...r.outcome, ...(r.checked ? { checked: r.checked } : {}) };
    case 'attestations':
      return {
        subject: r.subject,
        ok,
        status: r.result.ok ? 'verified' : 'not-verified',
        ...(r.result.reason === undefined ? {} : { reason: r.result.reason }),
        verified: r.result.verified,
        failures: r.result.failures,
        ...(r.policy ? { policy: r.policy } : {}),
        ...(r.checked ? { checked: r.checked } : {}),
      };
    case 'release':
      return { subject: r.subject, status: r.result.ok ? 'verified' : 'not-verified', ...r.result };
    case 'signed-variant':
      return { subject: r.subject, ok, status: 'signed', algorithm: r.algorithm, files: r.files, signer: r.signer, metadataPath: r.metadata, bundle: r.bundle, ...(r.provenance ? { provenance: r.provenance } : {}) };
    case 'signed-blob':
      return { subject: r.subject, ok, status: 'signed', signer: r.signer, bundle: r.bundle };
    case 'signed-model': {
      const { serialization, resources } = r.manifest;
      return { subject: r.subject, ok, status: 'signed', signature: r.signature, serialization, resources: resources.length, bytes: r.bytes };
    }
    case 'attested':
      return { subject: r.subject, ok, status: 'signed', predicateType: r.predicateType, subjects: r.subjects, signer: r.signer, written: r.written };
    case 'not-signed':
    case 'not-attested':
      return { subject: r.subject, ok, status: 'not-signed', reason: r.reason };
    case 'digest':
      return { subject: r.subject, ok, status: 'hashed', digest: r.digest.toJSON(), bytes: r.bytes, backend: r.backend };
    case 'digest-check':
      return {
        subject: r.subject,
        ok,
        status: ok ? 'matches' : 'digest-mismatch',
        algorithm: r.algorithm,
        files: r.files,
        bytes: r.bytes,
        violations: r.violations.map((violation) => ({ ...violation, message: String(violation) })),
      };
    case 'bench':
      return { subject: r.subject, ok, status: 'measured', report: r.report };
    case 'publisher-list':
      return { subject: r.subject, ok, status: 'shown', list: listToJSON(r.list) };
    case 'publisher-check':
      return { subject: r.subject, ok, status: ok ? 'accepted' : 'refused', problems: r.problems, warnings: r.warnings, ...(r.list ? { list: listToJSON(r.list) } : {}) };
    case 'list-changed':
      return { subject: r.subject, ok, status: r.change.action, ...r.change };
    case 'locked':
      return {
        subject: r.subject,
        ok,
        status: 'locked',
        path: r.file,
        repoId: r.lock.repoId,
        commit: r.lock.commit,
        variants: Object.keys(r.lock.variants),
        identities: r.lock.identities ?? [],
        ...(r.lock.publisherList ? { publisherList: r.lock.publisherList } : {}),
      };
  }
}

/**
 * A variant's result as the reference `kernels verify-signature` words it, then (on success)
 * what was checked and who signed it.
 */
export function renderResult(result: VerificationResult, checked?: Checked): string {
  const v = printable(result.path);
  switch (result.status) {
    case 'verified':
      return [
        `✅ ${v}: kernel metadata is correctly signed${describeChecked(checked, 'files')}`,
        `   ${describeSigner(result.signer)}`,
        ...describePublisher(result.signer),
        ...describeBytecode(v, result.bytecode),
        ...(result.provenance ? describeProvenance(result.provenance) : []),
        ...(result.sourceMismatch ? [`⚠️  ${v}: source mismatch kept (--allow-source-mismatch): ${printable(result.sourceMismatch)}`] : []),
        ...describeSourceNotCompared(result.sourceNotCompared),
      ].join('\n');
    case 'signature-missing':
      return `❌ ${v}: cannot verify kernel integrity, signature not found`;
    case 'bundle-invalid':
      return `❌ ${v}: cannot verify kernel integrity, invalid signature bundle:\n${printable(result.reason)}`;
    case 'metadata-invalid':
      return `❌ ${v}: cannot verify kernel integrity, invalid metadata:\n${printableLines(result.reason)}`;
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

/**
 * What the ✅ vouches for beyond the signature: `; 6 files (12.3 kB) re-hashed`, `hashed as they
 * downloaded`, `vouched for by a receipt`, or for an artifact known by digest, that it was not
 * read. Empty when unknown.
 */
function describeChecked(checked: Checked | undefined, what: 'files' | 'artifact'): string {
  if (!checked) return '';
  switch (checked.how) {
    case 'hashed':
      return what === 'artifact' ? `; the artifact (${formatBytes(checked.bytes)}) hashed` : `; ${plural(checked.files, 'file')} (${formatBytes(checked.bytes)}) re-hashed`;
    case 'streamed':
      return `; ${plural(checked.files, 'file')} hashed as they downloaded`;
    case 'receipt':
      return `; ${plural(checked.files, 'file')} vouched for by a receipt (unchanged since verified, not re-hashed)`;
    case 'digest-given':
      return '; over the digest given (the artifact itself was not read)';
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

function renderFetched(subject: string, kernel: FetchedKernel, checked: Checked | undefined): string {
  const s = printable(subject);
  return kernel.verified
    ? [`✅ ${s}: kernel metadata is correctly signed${describeChecked(checked, 'files')}`, `   ${describeSigner(kernel.signer)}`, ...describePublisher(kernel.signer), ...describeSourceNotCompared(kernel.sourceNotCompared)].join('\n')
    : `⚠️  ${s}: NOT SIGNED, taken because of --allow-unsigned`;
}

/** A re-signer's signature (Policy.resigners) vouches for the files, not their source: the ✅ says so. */
function describeSourceNotCompared(reason: string | undefined): string[] {
  return reason ? [`   source not compared: ${printable(reason)}`] : [];
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

function metadataSummary(metadata: { name: string; id: string; version: number; backend: unknown }) {
  return { name: metadata.name, id: metadata.id, version: metadata.version, backend: metadata.backend };
}

/** A variant's result for --json: plain data, violations with their kind and message. */
function variantJSON(result: VerificationResult): Record<string, unknown> {
  const base = { subject: result.path, ok: result.status === 'verified', status: result.status };
  switch (result.status) {
    case 'verified':
      return {
        ...base,
        signer: result.signer,
        metadata: metadataSummary(result.metadata),
        digest: { algorithm: result.digest.algorithm, files: result.digest.files.size },
        ...(result.bytecode ? { bytecode: result.bytecode } : {}),
        ...(result.sourceMismatch ? { sourceMismatch: result.sourceMismatch } : {}),
        ...(result.sourceNotCompared ? { sourceNotCompared: result.sourceNotCompared } : {}),
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
      return `✅ ${m}: model signature verified: ${plural(resources.length, serialization.method === 'shards' ? 'shard' : 'file')}, ${formatBytes(result.bytes)} re-hashed (${how})\n   ${describeSigner(result.signer)}`;
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
function modelJSON(result: ModelVerificationResult): Record<string, unknown> {
  const base = { subject: result.path, ok: result.status === 'verified', status: result.status, signature: result.signaturePath };
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

function renderAttestations(subject: string, result: AttestationVerificationResult, policy: string | undefined, checked: Checked | undefined): string {
  const s = printable(subject);
  const lines = [
    result.ok
      ? `✅ ${s}: ${plural(result.verified.length, 'attestation')} verified${describeChecked(checked, 'artifact')}`
      : `❌ ${s}: ${printable(result.reason ?? 'not verified')}`,
    ...result.verified.map(describeAttestation),
    ...result.failures.map((failure) => `   ✗ ${printable(failure.source)}: ${printable(failure.reason)}`),
  ];
  if (policy && result.ok) lines.push(`   policy: ${printable(policy)}`);
  return lines.join('\n');
}

/** A release and what its attestation says: the tag's commit, each asset, each asset checked. */
function renderRelease(subject: string, result: ReleaseVerificationResult): string {
  const [repository, tag] = [subject.slice(0, subject.lastIndexOf('@')), subject.slice(subject.lastIndexOf('@') + 1)];
  const lines = [result.ok ? `✅ release ${printable(tag)} of ${printable(repository)} verified` : `❌ release ${printable(tag)} of ${printable(repository)}: ${printable(result.reason ?? 'not verified')}`];
  const release = result.release;
  if (release) {
    lines.push(`   ${printable(release.source)}: ${release.predicateType}`, `   ${printable(describeSigner(release.signer))}`);
    if (release.commit) lines.push(`   tag ${printable(release.tag)} at commit ${release.commit}`);
    const named = release.subjects.filter((s) => s.name !== undefined);
    if (named.length > 0) lines.push('   assets:', ...named.map((s) => `     ${printable(s.name!)}  ${Object.entries(s.digest).map(([a, d]) => `${a}:${d}`).join(' ')}`));
  }
  for (const asset of result.assets) lines.push(asset.ok ? `   ✓ ${printable(asset.name)}: attested as ${printable(asset.subject!)}` : `   ✗ ${printable(asset.name)}: ${printable(asset.reason!)}`);
  for (const failure of result.failures) lines.push(`   ✗ ${printable(failure.source)}: ${printable(failure.reason)}`);
  return lines.join('\n');
}

function describeAttestation(a: VerifiedAttestation): string {
  const s = a.signer;
  const who = a.trustedBy === 'npm-registry-key' ? `the npm registry (key ${a.registryKeyId})` : `${s.identity ?? '(no identity)'} (issuer ${s.issuer ?? 'none'})`;
  const lines = [`   ✓ ${a.source}: ${a.predicateType}`, `     signed by ${who}${s.signedAt ? ` at ${s.signedAt}` : ''}${s.logIndex ? `, log index ${s.logIndex}` : ''}`];
  const p = a.provenance;
  const source = p.workflowRepository ?? s.sourceRepository;
  const commit = p.sourceDigest ?? s.commit;
  if (source) lines.push(`     source ${source}${commit ? ` @ ${commit}` : ''}${p.workflowRef ?? s.ref ? ` (${p.workflowRef ?? s.ref})` : ''}`);
  if (p.workflowPath ?? s.workflow) lines.push(`     workflow ${p.workflowPath ?? s.workflow}`);
  if (p.builderId) lines.push(`     builder ${p.builderId}${p.buildType ? `, build type ${p.buildType}` : ''}`);
  if (p.invocationId) lines.push(`     run ${p.invocationId}`);
  return lines.map(printable).join('\n');
}

/** A publisher list for --json: plain data. */
function listToJSON(list: VerifiedPublisherList): Record<string, unknown> {
  return {
    location: list.location,
    version: list.version,
    expires: list.expires.toISOString(),
    lastRefresh: list.lastRefresh.toISOString(),
    from: list.from,
    rootDigest: list.rootDigest,
    roles: Object.fromEntries(Object.entries(list.roles).map(([role, state]) => [role, { version: state.version, expires: state.expires.toISOString() }])),
    entries: list.entries.map((entry) => ({
      repos: entry.repos,
      policy: entry.policy.description,
      ...(entry.validFrom ? { validFrom: entry.validFrom.toISOString() } : {}),
      ...(entry.validUntil ? { validUntil: entry.validUntil.toISOString() } : {}),
      ...(entry.revoked ? { revoked: { at: entry.revoked.at.toISOString(), reason: entry.revoked.reason } } : {}),
      ...(entry.note === undefined ? {} : { note: entry.note }),
    })),
  };
}

/** A publisher list for people: what it is, how fresh, then each entry. */
function describeList(list: Pick<VerifiedPublisherList, 'location' | 'version' | 'expires' | 'lastRefresh' | 'from' | 'rootDigest' | 'roles' | 'entries'>): string {
  const lines = [
    `${printable(list.location)}: version ${list.version}, expires ${list.expires.toISOString()}`,
    `   last refreshed ${list.lastRefresh.toISOString()}${list.from === 'cache' ? ' (read from the cache now)' : ' (now)'}; root ${list.rootDigest} version ${list.roles.root.version}`,
    list.entries.length === 0 ? '   no entries: it trusts no publisher' : `   ${list.entries.length} ${list.entries.length === 1 ? 'entry' : 'entries'}:`,
    ...list.entries.flatMap(describeEntry),
  ];
  return lines.join('\n');
}

function describeEntry(entry: PublisherEntry): string[] {
  const lines = [`   ${printable(entry.repos)}${entry.note === undefined ? '' : `  (${printable(entry.note)})`}`, `      ${printable(entry.policy.description)}`];
  if (entry.validFrom || entry.validUntil) lines.push(`      valid from ${entry.validFrom?.toISOString() ?? 'any time'} until ${entry.validUntil?.toISOString() ?? 'any time'}`);
  if (entry.revoked) lines.push(`      REVOKED at ${entry.revoked.at.toISOString()}: ${printable(entry.revoked.reason)}`);
  return lines;
}

/** A maintainer command's change to a list's folder, with what to do next where something is left to do. */
function describeChange(subject: string, change: ListChange): string {
  const dir = printable(subject);
  const unsigned = `(not signed yet: kernelseal publishers sign ${dir} --keys KEYS)`;
  switch (change.action) {
    case 'made':
      return [
        `✅ ${dir}: a new publisher list (root version 1, ${change.rootThreshold} of ${change.keys.filter((key) => key.roles.includes('root')).length} root keys to sign a root)`,
        ...change.keys.map((key) => `   ${key.roles.join(' + ').padEnd(20)} key ${key.id.slice(0, 16)}…  ${printable(key.file)}`),
        describeSigned(change.signed),
        `Next: add entries (kernelseal publishers add ${dir} --repos org/* --github org/builds ...),
sign them (kernelseal publishers sign ${dir} --keys ${printable(change.keysDir)}), check (kernelseal publishers check ${dir}),
upload ${dir} as one Hub commit, and give users ${dir}/metadata/1.root.json (or its sha256) to pin.
Keep the root keys offline; put only the online key in CI (examples/github-actions/publishers-refresh.yml).`,
      ].join('\n');
    case 'added':
    case 'removed':
      return `✅ ${dir}: ${change.action} ${printable(change.repos)} ${unsigned}`;
    case 'revoked':
      return `✅ ${dir}: revoked ${printable(change.repos)} from ${change.at} (${printable(change.reason)}); sign and upload now: kernelseal publishers sign ${dir} --keys KEYS`;
    case 'signed':
      return `${change.signed.length === 0 ? `✅ ${dir}: nothing needed signing` : `✅ ${dir}: signed`}\n${describeSigned(change.signed)}`;
    case 'key-rotated':
      return [
        `✅ ${dir}: key ${change.replaced.slice(0, 16)}… replaced by ${change.key.slice(0, 16)}… (${printable(change.file)}) for ${change.roles.join(', ')}`,
        describeSigned(change.signed),
        ...(change.retired ? [`   the old key's file is now ${printable(change.retired)}`] : []),
      ].join('\n');
  }
}

/** "   targets   version 3, expires ..." for each role signed. */
function describeSigned(signed: Signed): string {
  return signed.map((s) => `   ${s.role.padEnd(9)} version ${s.version}, expires ${s.expires}`).join('\n');
}
