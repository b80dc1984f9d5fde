import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';

/** The directories tempDir made for this test file. */
const made: string[] = [];
// Registered once, as the file imports this module: a hook registered inside a test never runs,
// and tempDir is called inside tests too.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the system temp dir, removed after the test file (wherever it is called). */
export function tempDir(prefix = 'kernelseal-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export type TreeSpec = Record<string, string | Buffer | { symlink: string }>;

/** Writes files (and symlinks) under `root`; keys are `/`-separated relative paths. */
export function writeTree(root: string, spec: TreeSpec): string {
  for (const [key, content] of Object.entries(spec)) {
    const path = join(root, key);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof content === 'object' && 'symlink' in content) symlinkSync(content.symlink, path);
    else writeFileSync(path, content);
  }
  return root;
}

/** Deterministic pseudo-random bytes (xorshift), so large fixtures need no stored blobs. */
export function pseudoRandomBytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  for (; i < length; i++) out[i] = i & 0xff;
  return out;
}

/**
 * Puts a real .cubin (a small ReLU kernel built by nvcc, checked in as
 * `__test__/fixtures/cuda/relu_sm80.cubin`, so no test needs CUDA) at `<dir>/<name>`.
 */
export function copyCubin(dir: string, name = 'relu.cubin'): string {
  const out = join(dir, name);
  copyFileSync(new URL('../fixtures/cuda/relu_sm80.cubin', import.meta.url), out);
  return out;
}

export function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

/**
 * A Unix socket listening at `path`. It is bound at a short name and renamed into place: a
 * socket's path is limited (104 bytes on macOS, whose temporary folder alone takes about 50).
 */
export async function listenUnix(path: string): Promise<Server> {
  const short = join(mkdtempSync('/tmp/ks-'), 's');
  const server = createServer().listen(short);
  await new Promise((resolve) => server.once('listening', resolve));
  renameSync(short, path);
  rmSync(dirname(short), { recursive: true });
  return server;
}

/** Runs `node` with the given script text; returns exit status, signal and output. */
export function runNode(script: string, options: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; timeout?: number; execArgv?: string[] } = {}) {
  const result = spawnSync(process.execPath, [...(options.execArgv ?? []), '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    timeout: options.timeout ?? 60_000,
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}
