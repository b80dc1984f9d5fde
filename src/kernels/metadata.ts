import { Digest, DigestFormatError } from '../digest/digest.js';
import { METADATA_ALGORITHMS } from '../digest/algorithm.js';
import { isJSONObject } from '../json/json-object.js';
import { StrictJSONError, parseStrictJSON } from '../json/strict-json.js';

/** Backends a kernel can be built for (docs/design.md section 2). */
export const BACKEND_TYPES = ['cann', 'cpu', 'cuda', 'metal', 'neuron', 'rocm', 'tpu', 'xpu'] as const;
export type BackendType = (typeof BACKEND_TYPES)[number];

export type KernelDependency = { repoId: string; version: number } | { repoId: string; revision: string };

/** A kernel variant's metadata.json, read strictly. Keys are kebab-case in the file. */
export interface KernelMetadata {
  name: string;
  id: string;
  version: number;
  license: string;
  pythonDepends: string[];
  backend: { type: BackendType; archs?: string[] };
  upstream?: string;
  source?: string;
  kernelDepends?: KernelDependency[];
  provenance?: unknown;
  kernelsMinver?: string;
  /** Undefined when the metadata has no digest (docs/design.md section 5, step 6). */
  digest?: Digest;
}

/**
 * metadata.json is not JSON or violates the schema: `problems` lists every violation found (the
 * message, one per line), so that a signer fixes them all in one go.
 */
export class MetadataError extends Error {
  override readonly name = 'MetadataError';
  readonly code = 'METADATA_INVALID' as const;
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[], options?: ErrorOptions) {
    // One line each, whatever they quote (a JSON parser's message quotes the input, line breaks
    // and all): the message's lines are the problems, and none can pose as a line of output.
    const list = (typeof problems === 'string' ? [problems] : problems).map(escapeLineBreaks);
    super(list.join('\n'), options);
    this.problems = list;
  }
}

/** `text` on one line: a line break in it (from a file's name or content) is shown as `\n` or `\r`. */
export function escapeLineBreaks(text: string): string {
  return text.replace(/[\r\n]/g, (c) => (c === '\n' ? '\\n' : '\\r'));
}

/** Largest metadata.json read: generous for a digest of many files, far from a memory bomb. */
export const MAX_METADATA_BYTES = 256 * 1024 * 1024;

const NAME = /^[a-z][-a-z0-9]*[a-z0-9]$/;

/**
 * Parses metadata.json by the schema of docs/design.md section 2. Unknown keys are ignored, as the
 * reference does; every known key must have its type. Only call this on bytes whose signature
 * has been verified. Throws a MetadataError listing every violation.
 */
export function parseMetadata(bytes: Uint8Array): KernelMetadata {
  const { metadata, problems } = readMetadata(bytes);
  if (!metadata) throw new MetadataError(problems);
  return metadata;
}

/**
 * Every reason verification would refuse this metadata.json (parseMetadata's rules: one home),
 * without throwing: what `sign` checks before it signs. `withoutDigest` leaves the digest out of
 * the check, for metadata whose digest is about to be replaced.
 */
export function metadataProblems(bytes: Uint8Array, options: { withoutDigest?: boolean } = {}): string[] {
  return readMetadata(bytes, options).problems;
}

function readMetadata(bytes: Uint8Array, options: { withoutDigest?: boolean } = {}): { metadata?: KernelMetadata; problems: string[] } {
  let json: unknown;
  try {
    json = parseStrictJSON(bytes);
  } catch (error) {
    if (!(error instanceof StrictJSONError)) throw error;
    return { problems: [escapeLineBreaks(error.message)] };
  }
  const problems: string[] = [];
  const check = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof MetadataError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const root = check(() => object(json, 'metadata'));
  if (!root) return { problems };
  const name = check(() => {
    const value = string(root.name, 'name');
    if (!NAME.test(value)) throw new MetadataError(`name ${JSON.stringify(value)} does not match ${NAME.source}`);
    return value;
  });
  const backend = check(() => {
    const value = object(root.backend, 'backend');
    const type = string(value.type, 'backend.type');
    if (!(BACKEND_TYPES as readonly string[]).includes(type)) throw new MetadataError(`backend.type ${JSON.stringify(type)} is not one of ${BACKEND_TYPES.join(', ')}`);
    return { type: type as BackendType, ...(value.archs === undefined ? {} : { archs: strings(value.archs, 'backend.archs') }) };
  });
  const id = check(() => string(root.id, 'id'));
  const version = check(() => unsigned(root.version, 'version'));
  const license = check(() => string(root.license, 'license'));
  const pythonDepends = check(() => strings(root['python-depends'], 'python-depends'));
  const metadata = { name, id, version, license, pythonDepends, backend } as KernelMetadata;
  if (root.upstream !== undefined) metadata.upstream = check(() => string(root.upstream, 'upstream'));
  if (root.source !== undefined) metadata.source = check(() => string(root.source, 'source'));
  if (root['kernels-minver'] !== undefined) metadata.kernelsMinver = check(() => string(root['kernels-minver'], 'kernels-minver'));
  if (root.provenance !== undefined) metadata.provenance = root.provenance;
  if (root['kernel-depends'] !== undefined) metadata.kernelDepends = check(() => dependencies(root['kernel-depends']));
  if (root.digest !== undefined && !options.withoutDigest) metadata.digest = check(() => digest(root.digest));
  return problems.length > 0 ? { problems } : { metadata, problems };
}

function digest(json: unknown): Digest {
  const algorithm = (json as { algorithm?: unknown } | null)?.algorithm;
  if (typeof algorithm === 'string' && !(METADATA_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new MetadataError(`digest.algorithm must be "sha256" or "sha512", not ${JSON.stringify(algorithm)}`);
  }
  try {
    return Digest.fromJSON(json);
  } catch (error) {
    // The file's fault; anything else fromJSON throws is a bug (docs/architecture.md "Errors").
    if (!(error instanceof DigestFormatError)) throw error;
    throw new MetadataError(error.message, { cause: error });
  }
}

function dependencies(json: unknown): KernelDependency[] {
  if (!Array.isArray(json)) throw new MetadataError('kernel-depends must be an array');
  return json.map((item, i) => {
    const at = `kernel-depends[${i}]`;
    const dep = object(item, at);
    const repoId = string(dep['repo-id'], `${at}.repo-id`);
    const hasVersion = dep.version !== undefined;
    if (hasVersion === (dep.revision !== undefined)) throw new MetadataError(`${at} needs exactly one of version and revision`);
    return hasVersion ? { repoId, version: unsigned(dep.version, `${at}.version`) } : { repoId, revision: string(dep.revision, `${at}.revision`) };
  });
}

function object(value: unknown, at: string): Record<string, unknown> {
  if (!isJSONObject(value)) throw new MetadataError(`${at} must be an object`);
  return value;
}

function string(value: unknown, at: string): string {
  if (typeof value !== 'string') throw new MetadataError(`${at} must be a string${value === undefined ? ' (missing)' : ''}`);
  return value;
}

function strings(value: unknown, at: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new MetadataError(`${at} must be an array of strings${value === undefined ? ' (missing)' : ''}`);
  }
  return value as string[];
}

function unsigned(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new MetadataError(`${at} must be an unsigned integer${value === undefined ? ' (missing)' : ''}`);
  }
  return value;
}
