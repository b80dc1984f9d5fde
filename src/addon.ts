import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The Node-API addon as this platform has it, loaded, and nothing about what it is used for: the
// digest engine types and wraps it (src/hashing/native/backend.ts), the file lock takes its
// flock (src/fs/file-lock.ts), the Hub cache its syncfs (src/fs/sync-file-system.ts). All sit
// above this module, so none imports another for it.

const require = createRequire(import.meta.url);

/** The platform part of the addon's name, napi-rs style: `linux-x64-gnu`, `darwin-arm64`. */
export function platformTriple(): string {
  const { platform, arch } = process;
  return platform === 'linux' ? `${platform}-${arch}-${linuxLibc()}` : `${platform}-${arch}`;
}

/**
 * The C library this Linux process runs on: the one it has mapped (/proc/self/maps, read in a
 * fraction of a millisecond), else what the diagnostic report says, which takes milliseconds to
 * make (every command that hashes loads the addon: kernelseal --version must start at once).
 */
function linuxLibc(): 'gnu' | 'musl' {
  try {
    const maps = readFileSync('/proc/self/maps', 'latin1');
    if (maps.includes('/ld-musl-')) return 'musl';
    if (maps.includes('/libc.so.6\n')) return 'gnu';
  } catch {
    // No /proc: ask the report.
  }
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'gnu' : 'musl';
}

const functions = new Map<string, ((...args: never[]) => unknown) | undefined>();

/**
 * The addon's function `name`, bound to the addon, as its user declares it; undefined where no
 * addon loads or it has no such function (an older build, another platform). Asked once per
 * process and name.
 */
export function addonFunction<F extends (...args: never[]) => unknown>(name: string): F | undefined {
  if (!functions.has(name)) {
    let found: F | undefined;
    try {
      const addon = loadAddonExports() as Record<string, unknown>;
      const fn = addon[name];
      found = typeof fn === 'function' ? (fn.bind(addon) as F) : undefined;
    } catch {
      found = undefined;
    }
    functions.set(name, found);
  }
  return functions.get(name) as F | undefined;
}

/**
 * Loads the addon's exports (untyped: each user declares what it calls): the one built in this
 * package (`kernelseal.<triple>.node`), else the prebuilt platform package
 * (`@kernelseal/binding-<triple>`, see npm/). Throws with every place tried and why it failed.
 */
export function loadAddonExports(): object {
  const triple = platformTriple();
  const local = fileURLToPath(new URL(`../kernelseal.${triple}.node`, import.meta.url));
  const candidates = [local, `@kernelseal/binding-${triple}`];
  const failures: string[] = [];
  for (const candidate of candidates) {
    if (candidate === local && !existsSync(local)) {
      failures.push(`${local}: not built`);
      continue;
    }
    try {
      return require(candidate) as object;
    } catch (error) {
      failures.push(`${candidate}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  throw new Error(`the native digest addon is not available for ${triple}:\n  ${failures.join('\n  ')}`);
}
