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
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
// A request abandoned past its deadline (a server that never answers) may hold a socket open:
// the command is done, so it exits within a second whatever is left (output is flushed by then).
setTimeout(() => process.exit(), 1000).unref();
