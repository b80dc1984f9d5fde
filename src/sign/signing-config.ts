import { readFileSync } from 'node:fs';
import { isJSONObject } from '../json/json-object.js';
import { parseStrictJSON, readStrictJSONFile } from '../json/strict-json.js';
import { PUBLIC_GOOD_TUF_MIRROR, tufTarget, type RefreshOptions } from '../sigstore/trusted-root.js';

/** The instances kernelseal signs on by name: Sigstore's public-good, and GitHub's own (private repositories). */
export type SigstoreInstance = 'public-good' | 'github';

/** Their signing configs as pinned in the package (trust/README.md says whence). */
const PINNED_SIGNING_CONFIG: Record<SigstoreInstance, URL> = {
  'public-good': new URL('../../trust/public-good.signing_config.json', import.meta.url),
  github: new URL('../../trust/github.signing_config.json', import.meta.url),
};

/** A Sigstore signing config that cannot be used. */
export class SigningConfigError extends Error {
  override readonly name = 'SigningConfigError';
  readonly code = 'SIGNING_CONFIG_INVALID' as const;
}

interface Service {
  url: string;
  majorApiVersion: number;
  validFor?: { start?: string; end?: string };
}

/** Where the signature is witnessed: a transparency log (v1 or v2) and/or a timestamp authority. */
export interface WitnessOptions {
  /** Rekor's base URL. */
  rekorURL?: string;
  /** Rekor API major version: 1 (hashedrekord 0.0.1) or 2 (hashedrekord 0.0.2). */
  rekorVersion?: 1 | 2;
  /** An RFC 3161 timestamp authority's full URL (…/api/v1/timestamp); Rekor v2 needs one. */
  tsaURL?: string;
  /**
   * Log the signature in Rekor (default true). False, with a key or a certificate of your own PKI
   * only: nothing is sent to Rekor, and only to a TSA named by `tsaURL`; the bundle has no log
   * entry, and verifiers must waive it (insecureIgnoreTlog, README: air-gapped signing).
   */
  tlogUpload?: boolean;
  timeoutMs?: number;
}

/** The services to sign with, as chosen from a signing config. */
export interface SigningServices extends WitnessOptions {
  fulcioURL: string;
}

/** API versions kernelseal speaks, per kind of service. */
const SUPPORTED = { ca: [1], tsa: [1] };

/**
 * Picks Fulcio, Rekor and TSA URLs from a Sigstore `signing_config.json` (v0.2), or from the
 * signing config inside a client trust config: for each kind, a service valid now whose API
 * version we speak, the latest to start. Rekor v2 is opt-in (`rekorVersion: 2`, which needs a
 * TSA: its entries carry no signed time); otherwise Rekor v1, even where the config lists v2
 * first. A config that lists no log at all (GitHub's instance) signs with its TSA alone.
 */
export function servicesFromSigningConfig(json: unknown, source: string, options: { rekorVersion?: 1 | 2; now?: Date } = {}): SigningServices {
  const now = options.now ?? new Date();
  const fail = (reason: string): never => {
    throw new SigningConfigError(`${source}: ${reason}`);
  };
  // A client trust config carries its signing config inside.
  const config = isJSONObject(json) && ('signingConfig' in json || 'signing_config' in json) ? (json.signingConfig ?? json.signing_config) : json;
  if (!isJSONObject(config)) return fail('not a signing config');
  if (config.mediaType !== 'application/vnd.dev.sigstore.signingconfig.v0.2+json') {
    fail(`unsupported media type ${JSON.stringify(config.mediaType)}`);
  }
  const pick = (field: string, versions: number[], required: boolean): Service | undefined => {
    const services = config[field];
    if (services !== undefined && !Array.isArray(services)) fail(`${field} must be an array`);
    const usable = ((services as Service[] | undefined) ?? []).filter(
      (s) =>
        typeof s?.url === 'string' &&
        /^https?:\/\//.test(s.url) &&
        versions.includes(s.majorApiVersion) &&
        (!s.validFor?.start || new Date(s.validFor.start) <= now) &&
        (!s.validFor?.end || now <= new Date(s.validFor.end)),
    );
    usable.sort(
      (a, b) =>
        versions.indexOf(a.majorApiVersion) - versions.indexOf(b.majorApiVersion) ||
        Date.parse(b.validFor?.start ?? '0') - Date.parse(a.validFor?.start ?? '0'),
    );
    if (required && usable.length === 0) fail(`no usable ${field} entry (valid now, API version ${versions.join(' or ')})`);
    return usable[0];
  };
  const ca = pick('caUrls', SUPPORTED.ca, true)!;
  const logs = config.rekorTlogUrls;
  if (Array.isArray(logs) && logs.length === 0) {
    // An instance without a transparency log: its TSA's timestamp is the signature's only time.
    if (options.rekorVersion !== undefined) fail('lists no transparency log to use --rekor-version with');
    const tsa = pick('tsaUrls', SUPPORTED.tsa, true)!;
    return { fulcioURL: ca.url, tlogUpload: false, tsaURL: tsa.url };
  }
  const version = options.rekorVersion ?? 1;
  const tlog = pick('rekorTlogUrls', [version], true)!;
  const tsa = pick('tsaUrls', SUPPORTED.tsa, version === 2);
  return { fulcioURL: ca.url, rekorURL: tlog.url, rekorVersion: version, ...(tsa ? { tsaURL: tsa.url } : {}) };
}

/** The pinned signing config of an instance, its services chosen (servicesFromSigningConfig). */
export function pinnedSigningServices(instance: SigstoreInstance, rekorVersion?: 1 | 2): SigningServices {
  const path = PINNED_SIGNING_CONFIG[instance];
  return servicesFromSigningConfig(parseStrictJSON(readFileSync(path)), `pinned ${instance} signing config`, { rekorVersion });
}

/**
 * The services of an instance as its operator publishes them now: public-good's signing config
 * is the `signing_config.v0.2.json` target of Sigstore's TUF repository (verified by
 * @sigstore/tuf), else the pinned copy, with a warning; GitHub publishes none that we know of,
 * so its pinned one (trust/README.md).
 */
export async function signingServices(instance: SigstoreInstance, rekorVersion: 1 | 2 | undefined, options: RefreshOptions = {}): Promise<SigningServices> {
  if (instance === 'github' || options.offline) return pinnedSigningServices(instance, rekorVersion);
  const mirrorURL = options.mirrorURL ?? process.env.KERNELSEAL_TUF_MIRROR ?? PUBLIC_GOOD_TUF_MIRROR;
  let text: string;
  try {
    text = await tufTarget(mirrorURL, undefined, 'signing_config.v0.2.json', options);
  } catch (error) {
    options.onWarning?.(`could not refresh the signing config from ${mirrorURL} (${(error as Error).message}); using the pinned public-good one`);
    return pinnedSigningServices(instance, rekorVersion);
  }
  const source = `signing config from ${mirrorURL}`;
  return servicesFromSigningConfig(parseStrictJSON(text, (error) => new SigningConfigError(`${source}: ${error.message}`, { cause: error })), source, { rekorVersion });
}

/** The largest signing config read: a few services, a few kB. */
const MAX_SIGNING_CONFIG_BYTES = 1024 * 1024;

/**
 * A signing config file the user names (`--signing-config`), read as every user file is:
 * bounded, FIFO-safe and strict JSON (src/json/strict-json.ts), then its services chosen.
 */
export async function readSigningConfig(path: string, rekorVersion?: 1 | 2): Promise<SigningServices> {
  const json = await readStrictJSONFile(path, MAX_SIGNING_CONFIG_BYTES, (message, cause) => new SigningConfigError(message, { cause }));
  return servicesFromSigningConfig(json, path, { rekorVersion });
}
