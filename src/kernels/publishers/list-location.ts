import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HubClient, type HubClientOptions } from '../hub/hub-client.js';
import { isRepoId } from '../../repo-id.js';

/**
 * Where a publisher list's TUF repository is (docs/publishers.md, section 1): its metadata and
 * targets folders as URLs, and the name people know it by.
 */
export interface ListLocation {
  /** As the user wrote it (a folder: its absolute path). */
  name: string;
  metadataBaseUrl: string;
  targetBaseUrl: string;
  /** Read from disk (a folder) rather than over HTTP. */
  local: boolean;
}

const HF = /^hf:\/\/(?:(datasets|models)\/)?([^/@\s]+\/[^/@\s]+)(?:@([^\s]+))?$/;

/**
 * Reads a list's location: `hf://[datasets/|models/]org/name[@revision]` (a Hub repository:
 * `<endpoint>/[datasets/]org/name/resolve/<revision>/`, revision `main` by default), a base URL
 * (`https://`; `http://` on loopback only), or a folder on disk. Anything else is a caller's
 * mistake (TypeError).
 */
export function listLocation(location: string, hub: Pick<HubClientOptions, 'endpoint'> = {}): ListLocation {
  if (typeof location !== 'string' || location === '') throw new TypeError('a publisher list location is hf://org/name, an https:// URL or a folder');
  const hf = HF.exec(location);
  if (location.startsWith('hf://')) {
    if (!hf || !isRepoId(hf[2])) throw new TypeError(`${location}: a Hub list is hf://[datasets/|models/]org/name[@revision]`);
    const [, kind, repoId, revision] = hf;
    const endpoint = new HubClient({ endpoint: hub.endpoint, token: '' }).endpoint;
    const base = `${endpoint}/${kind === 'datasets' ? 'datasets/' : ''}${repoId}/resolve/${encodeURIComponent(revision ?? 'main')}/`;
    return { name: location, ...bases(base), local: false };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    const url = new URL(location);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback(url.hostname))) {
      throw new TypeError(`${location}: a publisher list is read over https:// (http:// only on this machine's loopback)`);
    }
    if (url.search || url.hash || url.username || url.password) throw new TypeError(`${location}: a list's base URL has no query, fragment or credentials`);
    return { name: location, ...bases(url.href.endsWith('/') ? url.href : `${url.href}/`), local: false };
  }
  const dir = resolve(location);
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // named below
  }
  if (!isDirectory) throw new TypeError(`${location}: neither hf://org/name, an https:// URL, nor a folder`);
  return { name: dir, ...bases(pathToFileURL(dir).href + '/'), local: true };
}

function bases(base: string): Pick<ListLocation, 'metadataBaseUrl' | 'targetBaseUrl'> {
  return { metadataBaseUrl: `${base}metadata/`, targetBaseUrl: `${base}targets/` };
}

function loopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
