import { X509Certificate, crypto as sigstoreCrypto } from '@sigstore/core';
import { PublicKeyDetails, TrustedRoot, type CertificateAuthority, type TransparencyLogInstance } from '@sigstore/protobuf-specs';
import { getTrustedRoot } from '@sigstore/tuf';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseStrictJSON } from '../json/strict-json.js';

export type { TrustedRoot };

/** A trusted root that is malformed or incomplete: verification never starts with it. */
export class TrustedRootError extends Error {
  override readonly name = 'TrustedRootError';
}

const TRUSTED_ROOT_MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.1+json',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
]);
const CLIENT_TRUST_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json';

/** Where the pinned public-good root lives in the package (re-pinned by scripts/pin-trusted-root.mjs). */
export const PINNED_TRUSTED_ROOT_PATH = new URL('../../trust/public-good.trusted_root.json', import.meta.url);

/**
 * Reads a trusted root, or the `trustedRoot` of a ClientTrustConfig, strictly. sigstore-js
 * treats a missing validity start as "since the beginning of time"; here every key and CA
 * must say when it starts to be trusted, every key must have a known type and parse, every
 * chain must hold certificates that parse. `source` names the file in errors.
 */
export function parseTrustedRoot(json: unknown, source: string): TrustedRoot {
  const fail = (reason: string): never => {
    throw new TrustedRootError(`${source}: ${reason}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not a JSON object');
  let value = json as Record<string, unknown>;
  if (value.mediaType === CLIENT_TRUST_CONFIG_MEDIA_TYPE) {
    if (typeof value.trustedRoot !== 'object' || value.trustedRoot === null) fail('client trust config without a trustedRoot');
    value = value.trustedRoot as Record<string, unknown>;
  }
  if (typeof value.mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPES.has(value.mediaType)) {
    fail(`unsupported media type ${JSON.stringify(value.mediaType) ?? '(none)'}`);
  }
  for (const field of ['tlogs', 'certificateAuthorities', 'ctlogs', 'timestampAuthorities']) {
    if (value[field] !== undefined && !Array.isArray(value[field])) fail(`${field} must be an array`);
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(value);
  } catch (error) {
    return fail(`cannot be read: ${(error as Error).message}`);
  }
  root.tlogs.forEach((log, i) => checkLog(log, `tlogs[${i}]`, fail));
  root.ctlogs.forEach((log, i) => checkLog(log, `ctlogs[${i}]`, fail));
  root.certificateAuthorities.forEach((ca, i) => checkAuthority(ca, `certificateAuthorities[${i}]`, fail));
  root.timestampAuthorities.forEach((ca, i) => checkAuthority(ca, `timestampAuthorities[${i}]`, fail));
  return root;
}

type Fail = (reason: string) => never;

function checkValidity(validFor: { start?: Date; end?: Date } | undefined, where: string, fail: Fail): void {
  const start = validFor?.start;
  if (!(start instanceof Date) || Number.isNaN(start.getTime())) fail(`${where} has no validity start`);
  const end = validFor?.end;
  if (end !== undefined && (Number.isNaN(end.getTime()) || end < start!)) fail(`${where} has a validity end before its start`);
}

function checkLog(log: TransparencyLogInstance, where: string, fail: Fail): void {
  if (!log.logId?.keyId?.length) fail(`${where} has no log ID`);
  const key = log.publicKey;
  if (!key?.rawBytes?.length) fail(`${where} has no public key`);
  if (!key!.keyDetails) fail(`${where} has no key type`); // 0 is PUBLIC_KEY_DETAILS_UNSPECIFIED
  checkValidity(key!.validFor, `${where}.publicKey`, fail);
  const pkcs1 = key!.keyDetails === PublicKeyDetails.PKCS1_RSA_PKCS1V5 || key!.keyDetails === PublicKeyDetails.PKCS1_RSA_PSS;
  try {
    sigstoreCrypto.createPublicKey(Buffer.from(key!.rawBytes!), pkcs1 ? 'pkcs1' : 'spki');
  } catch (error) {
    fail(`${where} has a public key that does not parse: ${(error as Error).message}`);
  }
}

function checkAuthority(ca: CertificateAuthority, where: string, fail: Fail): void {
  const certificates = ca.certChain?.certificates ?? [];
  if (certificates.length === 0) fail(`${where} has no certificates`);
  checkValidity(ca.validFor, where, fail);
  certificates.forEach((certificate, i) => {
    try {
      X509Certificate.parse(Buffer.from(certificate.rawBytes));
    } catch (error) {
      fail(`${where}.certChain.certificates[${i}] does not parse: ${(error as Error).message}`);
    }
  });
}

/** Reads and checks a trusted root (or client trust config) file. */
export async function readTrustedRoot(path: string): Promise<TrustedRoot> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new TrustedRootError(`${path}: cannot read: ${error.code === 'ENOENT' ? 'not found' : error.message}`);
  });
  let json: unknown;
  try {
    json = parseStrictJSON(text);
  } catch (error) {
    throw new TrustedRootError(`${path}: ${(error as Error).message}`);
  }
  return parseTrustedRoot(json, path);
}

let pinned: TrustedRoot | undefined;

/** Sigstore's public-good trusted root as pinned in this package (from @sigstore/tuf's seeds). */
export function pinnedTrustedRoot(): TrustedRoot {
  pinned ??= parseTrustedRoot(JSON.parse(readFileSync(PINNED_TRUSTED_ROOT_PATH, 'utf8')), 'pinned public-good trusted root');
  return pinned;
}

export interface RefreshOptions {
  /** Never touch the network: the pinned root. */
  offline?: boolean;
  /** The TUF repository (default: Sigstore's public-good CDN, or KERNELSEAL_TUF_MIRROR). */
  mirrorURL?: string;
  /** Where TUF metadata is cached (default: ~/.cache/kernelseal/tuf, or KERNELSEAL_TUF_CACHE). */
  cachePath?: string;
  timeoutMs?: number;
  /** Told why a refresh failed before the pinned root is used instead. */
  onWarning?: (message: string) => void;
}

/** The public-good trusted root and where it came from. */
export interface ResolvedTrustedRoot {
  trustedRoot: TrustedRoot;
  source: 'tuf' | 'pinned';
}

/** The TUF roles whose cached copies must all be unexpired for a refresh to skip the network. */
const TUF_ROLES = ['root', 'timestamp', 'snapshot', 'targets'];

/** Where @sigstore/tuf caches a mirror's metadata under its cache path (its client.js does the same). */
function tufRepoDir(mirrorURL: string): string {
  const url = new URL(mirrorURL);
  return encodeURIComponent(url.host + url.pathname.replace(/\/$/, ''));
}

/**
 * Whether every cached TUF role is still unexpired: then @sigstore/tuf's `forceCache` refreshes
 * from the cache alone ("prevents any downloads from the remote TUF repository as long as all
 * cached metadata files are un-expired", its README), still verifying every signature. Only a
 * hint for that choice: tuf-js falls back to the mirror when the timestamp has expired, but not
 * when the snapshot or targets have, so all four are checked here, and anything unreadable means
 * a normal refresh. A key rotated in TUF is then seen once the cached timestamp expires.
 */
function cachedMetadataFresh(repoDir: string, now = Date.now()): boolean {
  try {
    return TUF_ROLES.every((role) => {
      const expires = (JSON.parse(readFileSync(join(repoDir, `${role}.json`), 'utf8')) as { signed?: { expires?: unknown } }).signed?.expires;
      return typeof expires === 'string' && Date.parse(expires) > now;
    });
  } catch {
    return false;
  }
}

/**
 * The public-good trusted root, refreshed through TUF unless `offline`; while the cached TUF
 * metadata is unexpired, from the cache without a request (cachedMetadataFresh). A failed refresh falls
 * back to the pinned root and says why through `onWarning`: the pinned root is older but was
 * itself verified when it was pinned.
 */
export async function publicGoodTrustedRoot(options: RefreshOptions = {}): Promise<ResolvedTrustedRoot> {
  if (options.offline) return { trustedRoot: pinnedTrustedRoot(), source: 'pinned' };
  const mirrorURL = options.mirrorURL ?? process.env.KERNELSEAL_TUF_MIRROR ?? 'https://tuf-repo-cdn.sigstore.dev';
  const cachePath =
    options.cachePath ?? process.env.KERNELSEAL_TUF_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kernelseal', 'tuf');
  try {
    const forceCache = cachedMetadataFresh(join(cachePath, tufRepoDir(mirrorURL)));
    const root = await getTrustedRoot({ mirrorURL, cachePath, forceCache, timeout: options.timeoutMs ?? 5_000, retry: false });
    return { trustedRoot: parseTrustedRoot(TrustedRoot.toJSON(root), `trusted root from ${mirrorURL}`), source: 'tuf' };
  } catch (error) {
    options.onWarning?.(
      `could not refresh the trusted root from ${mirrorURL} (${(error as Error).message}); using the pinned public-good root`,
    );
    return { trustedRoot: pinnedTrustedRoot(), source: 'pinned' };
  }
}
