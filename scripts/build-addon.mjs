#!/usr/bin/env node
// Builds the Node-API addon (kernelseal.<platform>.node at the package root) with @napi-rs/cli,
// using the crate source chosen by cargo-source.mjs.
//
// --test-hooks builds the addon the tests load where they make the engine panic or pause on
// cue (the `test-hooks` feature, crates/addon/Cargo.toml) into target/test-hooks/ instead:
// never at the package root, so never packed or shipped (TEST_HOOKS_ADDON in
// __test__/helpers/package.ts).
import { spawnSync } from 'node:child_process';
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
const result = spawnSync(
  process.execPath,
  // The crate lives in crates/addon; the shipped .node file goes to the package root, where the loader looks.
  [napi, 'build', '--manifest-path', 'crates/addon/Cargo.toml', '--package-json-path', 'package.json', '--platform', '--no-js', ...profile, '--', ...cargoSourceArgs()],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
