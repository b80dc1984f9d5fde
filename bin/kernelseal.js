#!/usr/bin/env node
// The kernelseal command. Checks the Node.js version before loading anything else: the
// Sigstore libraries kernelseal verifies with support Node ^22.22.2, ^24.15.0 and >= 26.
const [major, minor, patch] = process.versions.node.split('.').map(Number);
const supported =
  (major === 22 && (minor > 22 || (minor === 22 && patch >= 2))) || (major === 24 && minor >= 15) || major >= 26;
if (!supported) {
  process.stderr.write(
    `kernelseal needs Node.js ^22.22.2, ^24.15.0 or >= 26; this is ${process.version}.\n` +
      `In a clone of kernelseal, 'npm run' scripts use the Node.js the setup installs.\n`,
  );
  process.exit(2);
}
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
// A request abandoned past its deadline (a server that never answers) may hold a socket open:
// the command is done, so it exits within a second whatever is left (output is flushed by then).
setTimeout(() => process.exit(), 1000).unref();
