import { BUNDLE_V03_MEDIA_TYPE } from '@sigstore/bundle';
import { readBounded } from '../fs/read-bounded.js';
import { isJSONObject } from '../json/json-object.js';
import { parseStrictJSON, StrictJSONError } from '../json/strict-json.js';
import { BundleError, parseBundle, type Bundle } from '../sigstore/bundle.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../sigstore/dsse.js';

/** An attestation file cannot be used: unreadable, malformed, or of no format we know. */
export class AttestationFileError extends Error {
  override readonly name = 'AttestationFileError';
  readonly code = 'ATTESTATION_FILE_INVALID' as const;
}

/** Attestation files larger than this are refused before they are read. */
export const MAX_ATTESTATION_FILE_BYTES = 64 * 1024 * 1024;

export type AttestationFormat = 'bundle' | 'jsonl' | 'pep740' | 'pypi-provenance' | 'npm' | 'github-api';

/** One attestation found in a file: a Sigstore bundle, with what its container said about it. */
export interface LoadedAttestation {
  /** `file`, or `file#N` (the Nth attestation of a file holding several, from 1). */
  source: string;
  format: AttestationFormat;
  bundle: Bundle;
  /** The predicate type the container declares next to the bundle (npm), checked against the statement. */
  declaredPredicateType?: string;
  /** The trusted publisher a PyPI provenance object groups the attestation under. */
  publisher?: Record<string, unknown>;
}

/**
 * Reads every attestation in a file, whatever its form: a Sigstore bundle (v0.1-v0.3), JSON
 * Lines of bundles (`gh attestation download`), a PEP 740 attestation object, a PyPI
 * provenance object, the npm registry's attestations document, or GitHub's attestations API
 * answer (`{"attestations": [{"bundle", "repository_id"}]}`, or one such entry). Any entry
 * that cannot be read fails the whole file, naming it: nothing is skipped.
 */
export async function readAttestationFile(path: string): Promise<LoadedAttestation[]> {
  const read = await readBounded(path, MAX_ATTESTATION_FILE_BYTES);
  if ('missing' in read) throw new AttestationFileError(`${path}: not found`);
  if ('error' in read) throw new AttestationFileError(read.error);
  return parseAttestations(read.bytes, path);
}

/** The attestations in a file's bytes; `path` names it in errors and sources. */
export function parseAttestations(bytes: Uint8Array, path: string): LoadedAttestation[] {
  const fail = (reason: string): never => {
    throw new AttestationFileError(`${path}: ${reason}`);
  };
  let json: unknown;
  try {
    json = parseStrictJSON(bytes);
  } catch (error) {
    if (!(error instanceof StrictJSONError)) throw error;
    if (error.kind !== 'syntax') return fail(error.message);
    json = undefined; // JSON Lines, perhaps
  }
  const found = json === undefined ? jsonLines(bytes, path) : fromDocument(json, path);
  if (found.length === 0) fail('holds no attestation');
  return found.length === 1 ? [{ ...found[0]!, source: path }] : found;
}

/** JSON Lines: one bundle a line (blank lines allowed); a bad line fails the file. */
function jsonLines(bytes: Uint8Array, path: string): LoadedAttestation[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AttestationFileError(`${path}: not valid UTF-8`);
  }
  const lines = text.split('\n');
  // One line that is not JSON is a broken JSON file, not JSON Lines.
  if (lines.filter((line) => line.trim() !== '').length < 2) throw new AttestationFileError(`${path}: not valid JSON or JSON Lines`);
  return lines.flatMap((line, i) => {
    if (line.trim() === '') return [];
    const where = `${path}:${i + 1}`;
    const json = parseStrictJSON(line, (error) => new AttestationFileError(`${where}: ${error.message}`, { cause: error }));
    return [{ source: where, format: 'jsonl' as const, bundle: bundleFrom(unwrapped(json), where) }];
  });
}

function fromDocument(json: unknown, path: string): LoadedAttestation[] {
  const fail = (reason: string): never => {
    throw new AttestationFileError(`${path}: ${reason}`);
  };
  const object = asObject(json, path, 'the file');
  const label = (i: number) => `${path}#${i + 1}`;
  if ('mediaType' in object) return [{ source: path, format: 'bundle', bundle: bundleFrom(object, path) }];
  if ('bundle' in object) return [{ source: path, format: 'github-api', bundle: bundleFrom(object.bundle, path) }];
  if ('attestations' in object) {
    // npm's document lists {"predicateType", "bundle"}; GitHub's API {"bundle", "repository_id"}.
    const list = object.attestations;
    if (!Array.isArray(list)) fail('"attestations" is not an array');
    return (list as unknown[]).map((entry, i) => {
      const item = asObject(entry, label(i), 'the entry');
      if (item.predicateType !== undefined && typeof item.predicateType !== 'string') fail(`attestation ${i + 1}: "predicateType" is not a string`);
      const bundle = bundleFrom(item.bundle, label(i));
      if (item.predicateType === undefined) return { source: label(i), format: 'github-api' as const, bundle };
      return { source: label(i), format: 'npm' as const, bundle, declaredPredicateType: item.predicateType as string };
    });
  }
  if ('attestation_bundles' in object) {
    // PyPI's provenance object: attestations grouped by the trusted publisher that uploaded them.
    if (object.version !== 1) fail(`unsupported provenance version ${JSON.stringify(object.version)}`);
    const groups = object.attestation_bundles;
    if (!Array.isArray(groups) || groups.length === 0) fail('"attestation_bundles" is not a non-empty array');
    const found: LoadedAttestation[] = [];
    (groups as unknown[]).forEach((group, g) => {
      const at = `${path}: attestation_bundles[${g}]`;
      const { attestations, publisher } = asObject(group, at, 'the group');
      if (!Array.isArray(attestations) || attestations.length === 0) throw new AttestationFileError(`${at} has no attestations`);
      const publisherObject = asObject(publisher, `${at}.publisher`, 'the publisher');
      for (const attestation of attestations) {
        const source = label(found.length);
        found.push({ source, format: 'pypi-provenance', bundle: bundleFrom(pep740ToBundle(attestation, source), source), publisher: publisherObject });
      }
    });
    return found;
  }
  if ('envelope' in object || 'verification_material' in object) {
    return [{ source: path, format: 'pep740', bundle: bundleFrom(pep740ToBundle(object, path), path) }];
  }
  return fail('not a Sigstore bundle, JSON Lines of bundles, PEP 740 attestation, PyPI provenance or npm attestations document');
}

/**
 * A PEP 740 attestation object as the Sigstore bundle it encodes, converted the way
 * pypi-attestations does: the certificate, log entries and RFC 3161 timestamps become the
 * verification material; the statement and its one signature a DSSE envelope of an in-toto
 * payload. Bundle v0.3.
 */
export function pep740ToBundle(json: unknown, where: string): Record<string, unknown> {
  const fail = (reason: string): never => {
    throw new AttestationFileError(`${where}: PEP 740 attestation: ${reason}`);
  };
  const object = asObject(json, where, 'the attestation');
  if (object.version !== 1) fail(`unsupported version ${JSON.stringify(object.version)}`);
  const material = asObject(object.verification_material, where, '"verification_material"');
  const envelope = asObject(object.envelope, where, '"envelope"');
  if (typeof material.certificate !== 'string') fail('no certificate');
  if (!Array.isArray(material.transparency_entries)) fail('"transparency_entries" is not an array');
  const timestamps = material.timestamps ?? [];
  if (!Array.isArray(timestamps) || !timestamps.every((t) => typeof t === 'string')) fail('"timestamps" is not an array of strings');
  if (typeof envelope.statement !== 'string' || typeof envelope.signature !== 'string') fail('the envelope needs a statement and a signature');
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: {
      certificate: { rawBytes: material.certificate },
      tlogEntries: material.transparency_entries,
      timestampVerificationData: { rfc3161Timestamps: (timestamps as string[]).map((signedTimestamp) => ({ signedTimestamp })) },
    },
    dsseEnvelope: { payload: envelope.statement, payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: envelope.signature, keyid: '' }] },
  };
}

/** A line of GitHub's API form (`{"bundle": ..., "repository_id": ...}`) holds its bundle. */
function unwrapped(json: unknown): unknown {
  return isJSONObject(json) && !('mediaType' in json) && 'bundle' in json ? json.bundle : json;
}

function bundleFrom(json: unknown, where: string): Bundle {
  try {
    return parseBundle(typeof json === 'string' ? json : JSON.stringify(json ?? null));
  } catch (error) {
    if (error instanceof BundleError) throw new AttestationFileError(`${where}: invalid Sigstore bundle: ${error.message}`, { cause: error });
    throw error;
  }
}

function asObject(json: unknown, where: string, what: string): Record<string, unknown> {
  if (!isJSONObject(json)) throw new AttestationFileError(`${where}: ${what} is not a JSON object`);
  return json;
}
