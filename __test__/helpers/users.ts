import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { outputOf, type CliResult } from './package.js';

/**
 * Other users of a shared cache, real ones: the suite runs as root in CI, which may create local
 * users (useradd) and run processes as them. Tests that need them are skipped, saying so, when
 * not root.
 */
export const AS_ROOT = process.getuid?.() === 0;
export const NEEDS_ROOT = 'skipped: not root (as CI runs the suite, creating the users kernelseal-a and kernelseal-b)';

export interface User {
  name: string;
  uid: number;
  gid: number;
}

/** The local user `name`, created if missing (no home, no login shell). */
export function ensureUser(name: string): User {
  for (let attempt = 0; ; attempt++) {
    const id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (id.status === 0) return { name, uid: Number(id.stdout), gid: Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout) };
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
    // Another test file creating it at the same moment holds /etc/passwd's lock: ask again.
    if (made.status !== 0 && attempt >= 50) throw new Error(`useradd ${name}: ${made.stderr}`);
    if (made.status !== 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}

/** A python3 that `user` may run (root's own may live under /root, closed to others). */
export function pythonFor(user: User): string {
  for (const candidate of ['/usr/bin/python3', '/usr/local/bin/python3', 'python3']) {
    if (spawnSync(candidate, ['-c', 'import mmap'], { uid: user.uid, gid: user.gid }).status === 0) return candidate;
  }
  throw new Error(`no python3 that ${user.name} can run`);
}

/**
 * Runs `command` as `user` (root when undefined), asynchronously: the test process keeps serving
 * its mock Hub and Sigstore meanwhile. Killed after `timeoutMs`.
 */
export function runAs(user: User | undefined, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(command, args, { env: { ...process.env, ...options.env }, ...(user ? { uid: user.uid, gid: user.gid } : {}), timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL' });
  return outputOf(child);
}

/** A process that answers commands line by line (a writer holding a mapping, a FUSE server). */
export interface LineProcess {
  /** The next line it prints. */
  line(): Promise<string>;
  /** Sends `command` and waits for its answer, which must be `expected`. */
  command(command: string, expected?: string): Promise<void>;
  /** Closes its input and waits for its last line. */
  end(): Promise<string>;
  stop(): void;
}

/** Starts `command` as `user` (root when undefined); its lines are read with `line()`. */
export function startAs(user: User | undefined, command: string, args: string[]): LineProcess {
  const child: ChildProcessWithoutNullStreams = spawn(command, args, user ? { uid: user.uid, gid: user.gid } : {});
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const line = async () => {
    const next = await lines.next();
    if (next.done) throw new Error(`${command} ${args.join(' ')} ended: ${stderr}`);
    return next.value;
  };
  return {
    line,
    async command(command, expected = 'done') {
      child.stdin.write(`${command}\n`);
      const answer = await line();
      if (answer !== expected) throw new Error(`${command}: ${answer} ${stderr}`);
    },
    async end() {
      child.stdin.end();
      return line();
    },
    stop: () => void child.kill('SIGKILL'),
  };
}
