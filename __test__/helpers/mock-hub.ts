import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join, relative } from 'node:path';

// A Hub-compatible HTTP server on 127.0.0.1 serving kernel repositories from directories, with
// the faults a fetcher must survive: dropped connections, wrong sizes, redirects to another
// origin, tampered content, unsafe paths in a listing.

export interface MockRepo {
  repoId: string;
  /** ref name (v1, main) -> the directory holding the repository's files at that commit. */
  refs: Record<string, string>;
}

export interface Faults {
  /**
   * Paths whose first `times` downloads stop after `bytes` bytes. The connection is cut only
   * once `delivered(total)` resolves, i.e. once the client holds `total` bytes of the file: a
   * fetch body that fails hands over none of what it still buffers, so cutting as soon as the
   * bytes are sent would sometimes leave nothing to resume from.
   */
  drop?: { path: string; bytes: number; times: number; delivered: (total: number) => Promise<void> };
  /** Paths served with extra bytes after their content. */
  oversize?: string;
  /** Paths served with other content than listed. */
  tamper?: string;
  /** Serve files by redirecting to another origin (localhost instead of 127.0.0.1). */
  redirect?: boolean;
  /** Extra names to put in every listing. */
  extraListed?: string[];
  /**
   * A busy Hub: the first `times` requests whose path contains `path` are answered `status`
   * (429 or 503) with this `Retry-After`, if any.
   */
  busy?: { path: string; times: number; status: 429 | 503; retryAfter?: string };
  /** Repositories renamed: the old id's answers (API and files) redirect to the new one's, as the Hub's do. */
  renamed?: Record<string, string>;
}

export interface MockHub {
  url: string;
  /** Every request: method, path, range and authorization headers, and when it came (ms). */
  requests: Array<{ path: string; range?: string; authorization?: string; at: number }>;
  faults: Faults;
  /**
   * What `GET /api/organizations/<org>/overview` answers (the kernels library reads
   * `trustedKernelPublisher` there): by default each served repository's organisation is a
   * trusted kernel publisher; change or delete an entry (404) to play another Hub.
   */
  organizations: Record<string, { trustedKernelPublisher?: unknown }>;
  commitOf(repoId: string, ref: string): string;
  close(): Promise<void>;
}

interface Commit {
  sha: string;
  files: Map<string, Buffer>;
  /** The listing, computed once: hashing large files per request would dwarf what is measured. */
  siblings: object[];
}

const LFS_THRESHOLD = 64 * 1024;

function listFiles(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path).split('\\').join('/'), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

const gitBlobId = (content: Buffer) => createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');

/** Answers a request before the kernel routes do (a publisher list: helpers/tuf-repo.ts); true when it answered. */
export type MockRoute = (path: string, res: ServerResponse) => boolean;

export async function startMockHub(repos: MockRepo[], faults: Faults = {}, routes: MockRoute[] = []): Promise<MockHub> {
  const commits = new Map<string, Commit>(); // `${repoId}@${ref or sha}` -> commit
  for (const repo of repos) {
    for (const [ref, dir] of Object.entries(repo.refs)) {
      const files = listFiles(dir);
      const siblings = [...files].map(([path, content]) =>
        content.length >= LFS_THRESHOLD
          ? { rfilename: path, size: 134, blobId: gitBlobId(Buffer.from(`pointer ${path}`)), lfs: { sha256: createHash('sha256').update(content).digest('hex'), size: content.length } }
          : { rfilename: path, size: content.length, blobId: gitBlobId(content) },
      );
      const commit = { sha: randomBytes(20).toString('hex'), files, siblings };
      commits.set(`${repo.repoId}@${ref}`, commit);
      commits.set(`${repo.repoId}@${commit.sha}`, commit);
    }
  }
  const requests: MockHub['requests'] = [];
  const organizations: MockHub['organizations'] = Object.fromEntries(repos.map((repo) => [repo.repoId.split('/')[0]!, { trustedKernelPublisher: true }]));
  const dropped = new Map<string, number>();
  const server = createServer((req, res) => handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url!, `http://127.0.0.1:${port}`);
    requests.push({ path: url.pathname, range: req.headers.range, authorization: req.headers.authorization, at: performance.now() });
    const busy = faults.busy;
    if (busy && url.pathname.includes(busy.path) && busy.times > 0) {
      busy.times -= 1;
      return void res.writeHead(busy.status, busy.retryAfter === undefined ? {} : { 'Retry-After': busy.retryAfter }).end('busy');
    }
    if (routes.some((route) => route(url.pathname, res))) return;
    const overview = /^\/api\/organizations\/([^/]+)\/overview$/.exec(url.pathname);
    if (overview) {
      const org = organizations[decodeURIComponent(overview[1]!)];
      if (!org) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"Organization not found"}');
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ name: overview[1], numKernels: 1, ...org }));
    }
    const api = /^\/api\/kernels\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const newName = api && faults.renamed?.[api[1]!];
    if (newName) return void res.writeHead(307, { location: url.pathname.replace(`/${api![1]}/`, `/${newName}/`) }).end();
    if (api) {
      const commit = commits.get(`${api[1]}@${decodeURIComponent(api[2]!)}`);
      if (!commit) return void res.writeHead(404).end('not found');
      const siblings = [...commit.siblings];
      for (const name of faults.extraListed ?? []) siblings.push({ rfilename: name, size: 1, blobId: gitBlobId(Buffer.from('x')) });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: api[1], sha: commit.sha, siblings }));
      return;
    }
    const resolve = /^\/(?:kernels\/|cdn\/)([^/]+\/[^/]+)\/resolve\/([0-9a-f]{40})\/(.+)$/.exec(url.pathname);
    if (!resolve) return void res.writeHead(404).end();
    const movedTo = faults.renamed?.[resolve[1]!];
    if (movedTo) return void res.writeHead(307, { location: url.pathname.replace(`/${resolve[1]}/`, `/${movedTo}/`) }).end();
    if (faults.redirect && url.pathname.startsWith('/kernels/')) {
      return void res.writeHead(302, { location: `http://localhost:${port}${url.pathname.replace('/kernels/', '/cdn/')}` }).end();
    }
    const path = resolve[3]!.split('/').map(decodeURIComponent).join('/');
    let content = commits.get(`${resolve[1]}@${resolve[2]}`)?.files.get(path);
    if (!content) return void res.writeHead(404).end();
    if (faults.tamper === path) content = Buffer.concat([content.subarray(0, -1), Buffer.from([content.at(-1)! ^ 1])]);
    if (faults.oversize === path) content = Buffer.concat([content, Buffer.from('extra bytes')]);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const body = content.subarray(start);
    res.writeHead(range ? 206 : 200, { 'Content-Length': String(body.length), ...(range ? { 'Content-Range': `bytes ${start}-${content.length - 1}/${content.length}` } : {}) });
    const drop = faults.drop;
    if (drop && drop.path === path && (dropped.get(path) ?? 0) < drop.times && body.length > drop.bytes) {
      dropped.set(path, (dropped.get(path) ?? 0) + 1);
      res.write(body.subarray(0, drop.bytes));
      await drop.delivered(start + drop.bytes);
      res.destroy();
      return;
    }
    res.end(body);
  }

  return {
    url: `http://127.0.0.1:${port}`,
    organizations,
    requests,
    faults,
    commitOf: (repoId, ref) => commits.get(`${repoId}@${ref}`)!.sha,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
