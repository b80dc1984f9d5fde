import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isJSONObject } from '../json/json-object.js';
import { readStrictJSONFile } from '../json/strict-json.js';
import {
  NAMED_POLICIES,
  allOf,
  anyOf,
  extensionPolicy,
  githubWorkflowPolicy,
  issuerPolicy,
  requirePinned,
  serviceIdentityPolicy,
  subjectPolicy,
  type Policy,
} from './policy.js';
import { EXTENSION_NAMES, extensionOid } from './certificate-identity.js';
import { PolicyError } from './policy-error.js';
import { PROVENANCE_FIELDS, provenancePolicy, type ProvenanceField } from './predicate-policy.js';
import { exactly, matching, oneOf, type StringMatch } from './string-match.js';

/**
 * Reads a policy from JSON. A policy is an object with any of these keys, all of which must hold:
 *
 *   "identity":   the subject alternative name; a GitHub service's SAN alone
 *                 (https://dotcom.releases.github.com) requires the certificate to name no issuer
 *   "issuer":     the OIDC issuer
 *   "extensions": { "<Fulcio extension OID or name>": <match>, ... }, names as
 *                 certificate-identity.ts gives them ("sourceRepositoryRef", "deploymentEnvironment")
 *   "github":     { "repository": "owner/name", "workflow"?, "ref"?, "workflowRef"? }
 *   "builtin":    a named policy, e.g. "kernels-community"
 *   "predicate":  { "builderId"?, "buildType"?, "workflowRepository"?, "workflowRef"?,
 *                   "workflowPath"?, "sourceDigest"?: <match> }, on the SLSA provenance an
 *                 attestation signs (v1 or v0.2); never satisfied by a signature without one
 *
 * or exactly one of "anyOf" / "allOf": [policy, ...]. A <match> is a string (exact), or
 * { "regexp": "..." } (always anchored), or { "oneOf": ["...", ...] }. "description" may name
 * any policy. Unknown keys are errors; the whole policy must pin the OIDC issuer, and, on a
 * shared issuer (GitHub Actions, Google accounts...: shared-issuers.ts), the signer.
 */
export function parsePolicy(json: unknown, language: PolicyLanguage = {}): Policy {
  return requirePinned(policyFrom(json, '$', 0, language));
}

/**
 * Limits on the policy language where a policy travels to other machines (a trusted publisher
 * list, docs/publishers.md): only certificate identities, so that the policy means the same to
 * every client, and patterns bounded in length.
 */
export interface PolicyLanguage {
  /** Refuse "builtin" (its meaning is this version's) and "predicate" (kernels are no attestations). */
  identitiesOnly?: boolean;
  /** The longest regular expression allowed, in characters. */
  maxPatternLength?: number;
}

/** The largest policy or trust file read: a policy is a few lines. */
export const MAX_POLICY_FILE_BYTES = 1024 * 1024;

/** Reads a policy file; errors name the file. */
export async function readPolicyFile(path: string): Promise<Policy> {
  const json = await readJSON(path);
  return naming(path, () => parsePolicy(json));
}

/**
 * What a trust file says: a policy (as readPolicyFile reads it), or, for signatures made without
 * Sigstore's services, a managed key or a private CA chain, optionally waiving the transparency
 * log. The key and chain are PEM text, read from files named relative to the trust file.
 */
export type TrustFile =
  | { policy: Policy }
  | { key: string; insecureIgnoreTlog: boolean }
  | { certificateChain: string; identity?: StringMatch; insecureIgnoreTlog: boolean };

const ANCHOR_KEYS = new Set(['key', 'certificateChain', 'identity', 'insecureIgnoreTlog', 'description']);

/**
 * Reads a policy file that may instead name a key or a private CA (README: air-gapped signing):
 *
 *   { "key": "release.pub", "insecureIgnoreTlog": true }
 *   { "certificateChain": "ca-chain.pem", "identity": <match>, "insecureIgnoreTlog": true }
 *
 * "insecureIgnoreTlog" is only allowed there: never beside a policy of Fulcio identities, whose
 * certificates are worth nothing without their log entry (src/sigstore/trust-anchor.ts).
 */
export async function readTrustFile(path: string): Promise<TrustFile> {
  const json = await readJSON(path);
  const object = isJSONObject(json) ? json : {};
  const named = ['key', 'certificateChain'].filter((key) => key in object);
  return naming(path, async (): Promise<TrustFile> => {
    if (named.length === 0) {
      if ('insecureIgnoreTlog' in object) {
        throw new PolicyError('"insecureIgnoreTlog" works only with "key" or "certificateChain": a policy trusts Fulcio certificates, which are worth nothing without their transparency log entry');
      }
      return { policy: parsePolicy(json) };
    }
    if (named.length > 1) throw new PolicyError('"key" and "certificateChain" exclude each other');
    for (const key of Object.keys(object)) {
      if (!ANCHOR_KEYS.has(key) || (key === 'identity' && named[0] === 'key')) throw new PolicyError(`$: ${JSON.stringify(key)} does not go with ${JSON.stringify(named[0])}`);
    }
    const ignore = object.insecureIgnoreTlog ?? false;
    if (typeof ignore !== 'boolean') throw new PolicyError('$.insecureIgnoreTlog must be true or false');
    optionalString(object.description, '$.description');
    const file = resolve(dirname(path), optionalString(object[named[0]!], `$.${named[0]}`)!);
    const pem = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new PolicyError(`$.${named[0]}: cannot read ${file}: ${error.code === 'ENOENT' ? 'not found' : error.message}`);
    });
    if (named[0] === 'key') return { key: pem, insecureIgnoreTlog: ignore };
    const identity = object.identity === undefined ? undefined : matchFrom(object.identity, '$.identity');
    return { certificateChain: pem, identity, insecureIgnoreTlog: ignore };
  });
}

function readJSON(path: string): Promise<unknown> {
  return readStrictJSONFile(path, MAX_POLICY_FILE_BYTES, (message, cause) => new PolicyError(message, { cause }));
}

/**
 * What `read` makes of a file's content, its PolicyError named by the file. Any other error is
 * a bug, and propagates as it is (docs/architecture.md, "Errors").
 */
async function naming<T>(path: string, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    throw new PolicyError(`${path}: ${error.message}`, { cause: error });
  }
}

const LEAF_KEYS = new Set(['identity', 'issuer', 'extensions', 'github', 'builtin', 'predicate', 'description']);
const GITHUB_KEYS = new Set(['repository', 'workflow', 'ref', 'workflowRef']);

/** Policies nest anyOf/allOf at most this deep: deeper is a mistake or an attack on the stack. */
const MAX_DEPTH = 16;

function policyFrom(json: unknown, at: string, depth: number, language: PolicyLanguage): Policy {
  if (depth > MAX_DEPTH) throw new PolicyError(`${at}: policies nest more than ${MAX_DEPTH} deep`);
  const object = asObject(json, at);
  const description = optionalString(object.description, `${at}.description`);
  const combinators = ['anyOf', 'allOf'].filter((key) => key in object);
  if (combinators.length > 0) {
    const key = combinators[0]!;
    const extra = Object.keys(object).filter((k) => k !== key && k !== 'description');
    if (combinators.length > 1 || extra.length > 0) throw new PolicyError(`${at}: "${key}" must stand alone (found ${[...combinators, ...extra].join(', ')})`);
    const list = object[key];
    if (!Array.isArray(list) || list.length === 0) throw new PolicyError(`${at}.${key} must be a non-empty array of policies`);
    const policies = list.map((item, i) => policyFrom(item, `${at}.${key}[${i}]`, depth + 1, language));
    return key === 'anyOf' ? anyOf(policies, description) : allOf(policies, description);
  }
  for (const key of Object.keys(object)) {
    if (!LEAF_KEYS.has(key)) throw new PolicyError(`${at}: unknown key ${JSON.stringify(key)}`);
  }
  if (language.identitiesOnly) {
    for (const key of ['builtin', 'predicate']) {
      if (key in object) throw new PolicyError(`${at}: ${JSON.stringify(key)} is not allowed here: only certificate identities (identity, issuer, extensions, github)`);
    }
  }
  const matchOf = (value: unknown, where: string) => matchFrom(value, where, language.maxPatternLength);
  const parts: Policy[] = [];
  if ('builtin' in object) {
    const name = optionalString(object.builtin, `${at}.builtin`)!;
    const named = NAMED_POLICIES.get(name);
    if (!named) throw new PolicyError(`${at}.builtin: unknown policy ${JSON.stringify(name)} (known: ${[...NAMED_POLICIES.keys()].join(', ')})`);
    parts.push(named);
  }
  if ('issuer' in object) parts.push(issuerPolicy(matchOf(object.issuer, `${at}.issuer`)));
  if ('identity' in object) {
    const identity = matchOf(object.identity, `${at}.identity`);
    // A GitHub service's SAN without "issuer": its certificates have none, and that is required.
    const service = 'issuer' in object ? undefined : serviceIdentityPolicy(identity);
    parts.push(service ?? subjectPolicy(identity));
  }
  if ('extensions' in object) {
    const extensions = asObject(object.extensions, `${at}.extensions`);
    const entries = Object.entries(extensions);
    if (entries.length === 0) throw new PolicyError(`${at}.extensions must not be empty`);
    for (const [key, match] of entries) {
      const oid = extensionOid(key);
      if (oid === undefined) throw new PolicyError(`${at}.extensions: ${JSON.stringify(key)} is neither an OID nor a Fulcio extension's name (${EXTENSION_NAMES.join(', ')})`);
      parts.push(extensionPolicy(oid, matchOf(match, `${at}.extensions["${key}"]`)));
    }
  }
  if ('github' in object) {
    const github = asObject(object.github, `${at}.github`);
    for (const key of Object.keys(github)) {
      if (!GITHUB_KEYS.has(key)) throw new PolicyError(`${at}.github: unknown key ${JSON.stringify(key)}`);
    }
    const repository = optionalString(github.repository, `${at}.github.repository`);
    if (repository === undefined) throw new PolicyError(`${at}.github.repository is required`);
    parts.push(
      githubWorkflowPolicy({
        repository,
        workflow: optionalString(github.workflow, `${at}.github.workflow`),
        ref: optionalString(github.ref, `${at}.github.ref`),
        workflowRef: optionalString(github.workflowRef, `${at}.github.workflowRef`),
      }),
    );
  }
  if ('predicate' in object) {
    const predicate = asObject(object.predicate, `${at}.predicate`);
    const entries = Object.entries(predicate);
    if (entries.length === 0) throw new PolicyError(`${at}.predicate must not be empty`);
    for (const [field, match] of entries) {
      if (!Object.hasOwn(PROVENANCE_FIELDS, field)) {
        throw new PolicyError(`${at}.predicate: unknown field ${JSON.stringify(field)} (known: ${Object.keys(PROVENANCE_FIELDS).join(', ')})`);
      }
      parts.push(provenancePolicy(field as ProvenanceField, matchOf(match, `${at}.predicate.${field}`)));
    }
  }
  if (parts.length === 0) throw new PolicyError(`${at}: an empty policy would trust anyone`);
  return parts.length === 1 && description === undefined ? parts[0]! : allOf(parts, description);
}

function matchFrom(json: unknown, at: string, maxPatternLength = Infinity): StringMatch {
  if (typeof json === 'string') return exactly(json);
  const object = isJSONObject(json) ? json : {};
  const keys = Object.keys(object);
  if (keys.length !== 1 || (keys[0] !== 'regexp' && keys[0] !== 'oneOf')) {
    throw new PolicyError(`${at} must be a string, {"regexp": "..."} or {"oneOf": [...]}`);
  }
  if (keys[0] === 'regexp') {
    const source = optionalString(object.regexp, `${at}.regexp`)!;
    if (source.length > maxPatternLength) throw new PolicyError(`${at}.regexp is longer than ${maxPatternLength} characters`);
    return matching(source);
  }
  const list = object.oneOf;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) throw new PolicyError(`${at}.oneOf must be an array of strings`);
  return oneOf(list as string[]);
}

function asObject(json: unknown, at: string): Record<string, unknown> {
  if (!isJSONObject(json)) throw new PolicyError(`${at} must be an object`);
  return json;
}

function optionalString(value: unknown, at: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new PolicyError(`${at} must be a non-empty string`);
  return value;
}
