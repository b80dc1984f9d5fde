import { readFile } from 'node:fs/promises';
import type { WitnessOptions } from './sign-bytes.js';

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

/** The services to sign with, as chosen from a signing config. */
export interface SigningServices extends WitnessOptions {
  fulcioURL: string;
}

/** API versions kernelseal speaks, per kind of service. */
const SUPPORTED = { ca: [1], tlog: [2, 1], tsa: [1] };

/**
 * Picks Fulcio, Rekor and TSA URLs from a Sigstore `signing_config.json` (v0.2), or from the
 * signing config inside a client trust config: for each kind, a service valid now whose API
 * version we speak, the newest version first (Rekor v2 over v1), then the latest to start.
 */
export function servicesFromSigningConfig(json: unknown, source: string, now = new Date()): SigningServices {
  const fail = (reason: string): never => {
    throw new SigningConfigError(`${source}: ${reason}`);
  };
  let config = json as Record<string, unknown> | null;
  if (config && typeof config === 'object' && ('signingConfig' in config || 'signing_config' in config)) {
    config = (config.signingConfig ?? config.signing_config) as Record<string, unknown>;
  }
  if (!config || typeof config !== 'object') fail('not a signing config');
  if (config!.mediaType !== 'application/vnd.dev.sigstore.signingconfig.v0.2+json') {
    fail(`unsupported media type ${JSON.stringify(config!.mediaType)}`);
  }
  const pick = (field: string, versions: number[], required: boolean): Service | undefined => {
    const services = config![field];
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
  const tlog = pick('rekorTlogUrls', SUPPORTED.tlog, true)!;
  const tsa = pick('tsaUrls', SUPPORTED.tsa, tlog.majorApiVersion === 2);
  return { fulcioURL: ca.url, rekorURL: tlog.url, rekorVersion: tlog.majorApiVersion as 1 | 2, tsaURL: tsa?.url };
}

export async function readSigningConfig(path: string): Promise<SigningServices> {
  const text = await readFile(path, 'utf8').catch((error: Error) => {
    throw new SigningConfigError(`${path}: cannot read: ${error.message}`, { cause: error });
  });
  try {
    return servicesFromSigningConfig(JSON.parse(text), path);
  } catch (error) {
    if (error instanceof SyntaxError) throw new SigningConfigError(`${path}: not valid JSON: ${error.message}`, { cause: error });
    throw error;
  }
}
