import { X509Certificate, crypto as sigstoreCrypto } from '@sigstore/core';
import { PublicKeyDetails, TrustedRoot, type CertificateAuthority, type TransparencyLogInstance } from '@sigstore/protobuf-specs';
import { initTUF } from '@sigstore/tuf';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBounded } from '../fs/read-bounded.js';
import { isJSONObject } from '../json/json-object.js';
import { StrictJSONError, parseStrictJSON } from '../json/strict-json.js';

export type { TrustedRoot };

/** A trusted root that is malformed or incomplete: verification never starts with it. */
export class TrustedRootError extends Error {
  override readonly name = 'TrustedRootError';
  readonly code = 'TRUSTED_ROOT_INVALID' as const;
}

const TRUSTED_ROOT_MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.1+json',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
]);
const CLIENT_TRUST_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json';

/** Where the pinned public-good root lives in the package (re-pinned by scripts/pin-trusted-root.mjs). */
export const PINNED_TRUSTED_ROOT_PATH = new URL('../../trust/public-good.trusted_root.json', import.meta.url);
/** GitHub's own instance: its trusted root, and the TUF root that signs its TUF repository (trust/README.md). */
export const PINNED_GITHUB_TRUSTED_ROOT_PATH = new URL('../../trust/github.trusted_root.json', import.meta.url);
export const GITHUB_TUF_ROOT_PATH = new URL('../../trust/github.tuf-root.json', import.meta.url);
/** The TUF repositories: Sigstore's public-good one, and GitHub's (what gh reads, its GitHubTUFMirror). */
export const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';
export const GITHUB_TUF_MIRROR = 'https://tuf-repo.github.com';

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
  if (!isJSONObject(json)) return fail('not a JSON object');
  let value = json;
  if (value.mediaType === CLIENT_TRUST_CONFIG_MEDIA_TYPE) {
    if (!isJSONObject(value.trustedRoot)) return fail('client trust config without a trustedRoot');
    value = value.trustedRoot;
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

/** The largest file of trusted roots read: a root is some 10 kB, a file holds a few. */
const MAX_TRUSTED_ROOTS_FILE_BYTES = 4 * 1024 * 1024;

/** Reads and checks a trusted root (or client trust config) file. */
export async function readTrustedRoot(path: string): Promise<TrustedRoot> {
  const roots = await readTrustedRoots(path);
  if (roots.length > 1) throw new TrustedRootError(`${path}: holds ${roots.length} trusted roots (JSON Lines), where one is needed`);
  return roots[0]!;
}

/**
 * Reads a file of trusted roots: one trusted root (or client trust config) as JSON, or JSON
 * Lines of them, one a line, as `gh attestation trusted-root` writes (public-good, then GitHub's
 * instance). Every line must be a root that holds; blank lines are skipped.
 */
export async function readTrustedRoots(path: string): Promise<TrustedRoot[]> {
  const refuse = (where: string) => (error: StrictJSONError) => new TrustedRootError(`${where}: ${error.message}`, { cause: error });
  const read = await readBounded(path, MAX_TRUSTED_ROOTS_FILE_BYTES);
  if ('missing' in read) throw new TrustedRootError(`${path}: cannot read: not found`);
  if ('error' in read) throw new TrustedRootError(read.error);
  // One JSON document, however it is laid out, or one document a line.
  let whole: unknown;
  try {
    whole = parseStrictJSON(read.bytes);
  } catch (error) {
    if (!(error instanceof StrictJSONError)) throw error;
    // Only a syntax error may be JSON Lines (the bytes are UTF-8 then); each line is read strictly.
    const text = error.kind === 'syntax' ? Buffer.from(read.bytes).toString('utf8') : '';
    const lines = text.split('\n').map((line, i) => [line, i + 1] as const).filter(([line]) => line.trim() !== '');
    if (lines.length < 2) throw refuse(path)(error); // one document: its own error
    return lines.map(([line, n]) => parseTrustedRoot(parseStrictJSON(line, refuse(`${path}:${n}`)), `${path}:${n}`));
  }
  return [parseTrustedRoot(whole, path)];
}

let pinned: TrustedRoot | undefined;
let pinnedGitHub: TrustedRoot | undefined;

/** Sigstore's public-good trusted root as pinned in this package (from @sigstore/tuf's seeds). */
export function pinnedTrustedRoot(): TrustedRoot {
  pinned ??= parseTrustedRoot(JSON.parse(readFileSync(PINNED_TRUSTED_ROOT_PATH, 'utf8')), 'pinned public-good trusted root');
  return pinned;
}

/** The trusted root of GitHub's own Sigstore instance as pinned in this package (trust/README.md). */
export function pinnedGitHubTrustedRoot(): TrustedRoot {
  pinnedGitHub ??= parseTrustedRoot(JSON.parse(readFileSync(PINNED_GITHUB_TRUSTED_ROOT_PATH, 'utf8')), "pinned GitHub instance's trusted root");
  return pinnedGitHub;
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
  const mirrorURL = options.mirrorURL ?? process.env.KERNELSEAL_TUF_MIRROR ?? PUBLIC_GOOD_TUF_MIRROR;
  return refreshedTrustedRoot(mirrorURL, undefined, pinnedTrustedRoot, 'the pinned public-good root', options);
}

/**
 * The trusted root of GitHub's own Sigstore instance (private repositories, release
 * attestations), refreshed through GitHub's TUF repository as gh does (its root pinned in
 * trust/github.tuf-root.json starts the chain of trust), else the pinned copy, as
 * publicGoodTrustedRoot does. `KERNELSEAL_GITHUB_TUF_MIRROR` changes the repository.
 */
export async function githubTrustedRoot(options: RefreshOptions = {}): Promise<ResolvedTrustedRoot> {
  const mirrorURL = options.mirrorURL ?? process.env.KERNELSEAL_GITHUB_TUF_MIRROR ?? GITHUB_TUF_MIRROR;
  return refreshedTrustedRoot(mirrorURL, fileURLToPath(GITHUB_TUF_ROOT_PATH), pinnedGitHubTrustedRoot, "the pinned GitHub instance's root", options);
}

/**
 * Both instances a gh user meets: public-good first, then GitHub's own. Verification picks the
 * one whose CA issued a signature's certificate (verify-bundle.ts, chooseTrustedRoot).
 */
export async function defaultTrustedRoots(options: RefreshOptions = {}): Promise<TrustedRoot[]> {
  const { mirrorURL: _, ...shared } = options;
  const [publicGood, github] = await Promise.all([publicGoodTrustedRoot(options), githubTrustedRoot(shared)]);
  return [publicGood.trustedRoot, github.trustedRoot];
}

/** The TUF cache: KERNELSEAL_TUF_CACHE, else ~/.cache/kernelseal/tuf; one folder per repository inside. */
export function tufCachePath(options: Pick<RefreshOptions, 'cachePath'> = {}): string {
  return options.cachePath ?? process.env.KERNELSEAL_TUF_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kernelseal', 'tuf');
}

/**
 * A target of a TUF repository, every signature checked by @sigstore/tuf (tuf-js) from the
 * repository's root: `rootPath`, or the one @sigstore/tuf seeds for Sigstore's repository.
 * While every cached role is unexpired, from the cache with no request (cachedMetadataFresh).
 */
export async function tufTarget(mirrorURL: string, rootPath: string | undefined, target: string, options: Pick<RefreshOptions, 'cachePath' | 'timeoutMs'> = {}): Promise<string> {
  const cachePath = tufCachePath(options);
  const forceCache = cachedMetadataFresh(join(cachePath, tufRepoDir(mirrorURL)));
  const tuf = await initTUF({ mirrorURL, cachePath, rootPath, forceCache, timeout: options.timeoutMs ?? 5_000, retry: false });
  return tuf.getTarget(target);
}

async function refreshedTrustedRoot(
  mirrorURL: string,
  rootPath: string | undefined,
  pinnedRoot: () => TrustedRoot,
  pinnedName: string,
  options: RefreshOptions,
): Promise<ResolvedTrustedRoot> {
  if (options.offline) return { trustedRoot: pinnedRoot(), source: 'pinned' };
  const pinned = (error: Error): ResolvedTrustedRoot => {
    options.onWarning?.(`could not refresh the trusted root from ${mirrorURL} (${error.message}); using ${pinnedName}`);
    return { trustedRoot: pinnedRoot(), source: 'pinned' };
  };
  let text: string;
  try {
    text = await tufTarget(mirrorURL, rootPath, 'trusted_root.json', options);
  } catch (error) {
    return pinned(error as Error); // the network, or TUF's refusal (fetch fails with a TypeError)
  }
  const source = `trusted root from ${mirrorURL}`;
  try {
    return { trustedRoot: parseTrustedRoot(parseStrictJSON(text, (error) => new TrustedRootError(`${source}: ${error.message}`, { cause: error })), source), source: 'tuf' };
  } catch (error) {
    if (!(error instanceof TrustedRootError)) throw error; // a bug of ours, never a fallback
    return pinned(error);
  }
}
