#!/usr/bin/env node
// Builds the Node-API addon (kernelseal.<platform>.node at the package root) with @napi-rs/cli,
// using the crate source chosen by cargo-source.mjs.
//
// --test-hooks builds the addon the tests load where they make the engine panic or pause on
// cue (the `test-hooks` feature, crates/addon/Cargo.toml) into target/test-hooks/ instead:
// never at the package root, so never packed or shipped (TEST_HOOKS_ADDON in
// __test__/helpers/package.ts).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cargoSourceArgs } from './cargo-source.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const napi = fileURLToPath(new URL('../node_modules/@napi-rs/cli/dist/cli.js', import.meta.url));
const testHooks = process.argv.includes('--test-hooks');
const profile = testHooks
  ? ['--profile', 'test-hooks', '--features', 'test-hooks', '--output-dir', 'target/test-hooks']
  : process.argv.includes('--debug')
    ? ['--output-dir', '.']
    : ['--release', '--output-dir', '.'];
// @napi-rs/cli warns on every build that the addon does not use the napi-derive crate: by design
// (crates/node-api declares Node-API by hand), so that line is dropped, and only that one.
const BY_DESIGN = /`napi-derive` crate is not used or `type-def` feature is not enabled/;
const child = spawn(
  process.execPath,
  // The crate lives in crates/addon; the shipped .node file goes to the package root, where the loader looks.
  [napi, 'build', '--manifest-path', 'crates/addon/Cargo.toml', '--package-json-path', 'package.json', '--platform', '--no-js', ...profile, '--', ...cargoSourceArgs()],
  { cwd: root, stdio: ['inherit', 'inherit', 'pipe'] },
);
createInterface({ input: child.stderr }).on('line', (line) => {
  if (!BY_DESIGN.test(line)) process.stderr.write(`${line}\n`);
});
child.on('close', (status) => process.exit(status ?? 1));
