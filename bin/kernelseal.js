#!/usr/bin/env node
// The kernelseal command. Checks the Node.js version (package.json's "engines", read by
// node-support.js) before loading anything else.
import { SUPPORTED_NODE, supportsNode } from './node-support.js';

if (!supportsNode(process.versions.node)) {
  process.stderr.write(
    `kernelseal needs Node.js ${SUPPORTED_NODE.split(' || ').join(', ')}; this is ${process.version}.\n` +
      `In a clone of kernelseal, 'npm run' scripts use the Node.js the setup installs.\n`,
  );
  process.exit(2);
}
// A reader that stops early (`kernelseal digest DIR | head -1`) closes the pipe: the rest of the
// output has nowhere to go. That ends the command quietly, with the status of a program killed by
// SIGPIPE (141), as sha256sum's would: no stack, and no success claimed for work cut short.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(141);
  });
}
await useCompileCache();
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
// A request abandoned past its deadline (a server that never answers) may hold a socket open:
// the command is done, so it exits within a second whatever is left (output is flushed by then).
setTimeout(() => process.exit(), 1000).unref();

/**
 * Node's compile cache (Node >= 22.1): the V8 code of kernelseal and its libraries, kept between
 * runs, so that a command compiles less of them as it starts. Kept in the user's own cache folder
 * (`$XDG_CACHE_HOME` or ~/.cache, then kernelseal/compile-cache, made private), never in the
 * shared temporary folder where Node would put it, since code another user planted there would
 * run in every kernelseal command. NODE_DISABLE_COMPILE_CACHE (set at all, as Node reads it)
 * turns it off; a folder that cannot be made leaves it off. Measured by `kernelseal bench`.
 */
async function useCompileCache() {
  const [{ enableCompileCache }, { mkdirSync }, { homedir }, { join }] = await Promise.all([
    import('node:module'),
    import('node:fs'),
    import('node:os'),
    import('node:path'),
  ]);
  if (!enableCompileCache || process.env.NODE_DISABLE_COMPILE_CACHE !== undefined) return;
  try {
    const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kernelseal', 'compile-cache');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    enableCompileCache(dir);
  } catch {
    // No cache folder (no home, read-only): start without the cache.
  }
}
