import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

/**
 * A local Hub for the bench: the part of the Hugging Face Hub's HTTP API that getKernel uses
 * (src/kernels/hub/hub-client.ts), on 127.0.0.1, serving one repository from a directory. Files
 * are streamed from disk (a 1 GiB variant is not held in memory) and resumable (`Range:
 * bytes=N-`); the listing, with every file's size and Git or LFS ID, is computed once.
 */
export interface LocalHub {
  url: string;
  commit: string;
  /** Every file the listing names: path and size. */
  files: Array<{ path: string; size: number }>;
  /** The URL of a file at the commit, as getKernel asks for it. */
  fileUrl(path: string): string;
  close(): Promise<void>;
}

/** The URL of a file of the repository at `commit`, as getKernel asks for it. */
function resolveUrl(url: string, repoId: string, commit: string, path: string): string {
  return `${url}/kernels/${repoId}/resolve/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** Files this large or larger are LFS files, named by their SHA-256 (as the Hub does, roughly). */
const LFS_THRESHOLD = 64 * 1024;

export async function startLocalHub(repoId: string, dir: string): Promise<LocalHub> {
  const paths = new Map<string, string>(); // repository path -> file on disk (symlinks followed)
  const walk = (current: string) => {
    for (const name of readdirSync(current).sort()) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else paths.set(relative(dir, path).split('\\').join('/'), path);
    }
  };
  walk(dir);
  const siblings: object[] = [];
  for (const [path, file] of paths) siblings.push(await sibling(path, file));
  const commit = createHash('sha1').update(JSON.stringify(siblings)).digest('hex');
  const listing = JSON.stringify({ id: repoId, sha: commit, siblings });
  const server = createServer((req, res) => handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url!, url).pathname;
    if (path.startsWith(`/api/kernels/${repoId}/revision/`)) return void res.writeHead(200, { 'content-type': 'application/json' }).end(listing);
    const prefix = `/kernels/${repoId}/resolve/${commit}/`;
    const file = path.startsWith(prefix) ? paths.get(path.slice(prefix.length).split('/').map(decodeURIComponent).join('/')) : undefined;
    if (!file) return void res.writeHead(404).end();
    const size = statSync(file).size;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    res.writeHead(range ? 206 : 200, { 'content-length': String(size - start), ...(range ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}) });
    if (size > start) await pipeline(createReadStream(file, { start, highWaterMark: Math.min(size - start, 1024 * 1024) }), res);
    else res.end();
  }

  return {
    url,
    commit,
    files: [...paths.keys()].map((path) => ({ path, size: statSync(paths.get(path)!).size })),
    fileUrl: (path) => resolveUrl(url, repoId, commit, path),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * {@link startLocalHub} in a child process, so that serving does not share the measured
 * process's thread: what a real server costs the client is its bytes, not its work.
 */
export async function startLocalHubProcess(repoId: string, dir: string): Promise<LocalHub> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), repoId, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench: the local Hub exited (${code}) before it served`)));
  });
  const hub = JSON.parse(line) as Pick<LocalHub, 'url' | 'commit' | 'files'>;
  return {
    ...hub,
    fileUrl: (path) => resolveUrl(hub.url, repoId, hub.commit, path),
    close: async () => {
      child.kill();
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const hub = await startLocalHub(process.argv[2]!, process.argv[3]!);
  process.stdout.write(`${JSON.stringify({ url: hub.url, commit: hub.commit, files: hub.files })}\n`);
}

/** A file as the Hub lists it: a Git blob ID, and for a large file its LFS SHA-256 and size. */
async function sibling(path: string, file: string): Promise<object> {
  const size = statSync(file).size;
  const hash = createHash(size >= LFS_THRESHOLD ? 'sha256' : 'sha1');
  if (size < LFS_THRESHOLD) hash.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  const id = hash.digest('hex');
  if (size < LFS_THRESHOLD) return { rfilename: path, size, blobId: id };
  const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${id}\nsize ${size}\n`;
  const pointerId = createHash('sha1').update(`blob ${pointer.length}\0${pointer}`).digest('hex');
  return { rfilename: path, size: pointer.length, blobId: pointerId, lfs: { sha256: id, size } };
}
