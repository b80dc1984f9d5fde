import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, and the built entry points the tests use. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = new URL('../../dist/index.js', import.meta.url).href;
/** An internal module of the built package, for a test that needs what the API does not export. */
export const internal = (path: string) => new URL(`../../dist/${path}`, import.meta.url).href;
/** The native backend's module: the addon loader (`loadAddon`) is internal. */
export const NATIVE_BACKEND = internal('hashing/native/backend.js');
export const CLI = fileURLToPath(new URL('../../bin/kernelseal.js', import.meta.url));

/**
 * The addon built with its test hooks, which the shipped one lacks (crates/addon/Cargo.toml
 * `test-hooks`): `KERNELSEAL_TEST_PANIC` and `KERNELSEAL_TEST_MAPPED_PAUSE_MS` act only in it.
 * `npm test` builds it (scripts/setup.sh --test-hooks, into target/test-hooks/).
 */
export function testHooksAddon(): string {
  const path = join(ROOT, 'target', 'test-hooks', `kernelseal.${platformTriple()}.node`);
  if (!existsSync(path)) throw new Error(`${path} is not built: run 'sh scripts/setup.sh --test-hooks' (npm test does)`);
  return path;
}

/** A child script's expression for the test-hooks addon, loaded. */
export function testHooksAddonExpression(): string {
  return `(await import('node:module')).createRequire(${JSON.stringify(ROOT)})(${JSON.stringify(testHooksAddon())})`;
}

const { platformTriple } = (await import(internal('addon.js'))) as typeof import('../../dist/addon.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `kernelseal` command and collects its output. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; cli?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.cli ?? CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    outputOf(child).then(resolve, reject);
  });
}

/** What a child process printed, and its exit code, once it has closed. */
export function outputOf(child: ChildProcess): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Real data made by other projects, checked in: `__test__/fixtures/` (its README says whence). */
export function testdata(...parts: string[]): string {
  return join(ROOT, '__test__', 'fixtures', ...parts);
}
