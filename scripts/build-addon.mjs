#!/usr/bin/env node
// Builds the Node-API addon (kernelseal.<platform>.node at the package root) with @napi-rs/cli,
// using the crate source chosen by cargo-source.mjs.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cargoSourceArgs } from './cargo-source.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const napi = fileURLToPath(new URL('../node_modules/@napi-rs/cli/dist/cli.js', import.meta.url));
const profile = process.argv.includes('--debug') ? [] : ['--release'];
const result = spawnSync(
  process.execPath,
  // The crate lives in crates/addon; the .node file goes to the package root, where the loader looks.
  [napi, 'build', '--manifest-path', 'crates/addon/Cargo.toml', '--package-json-path', 'package.json', '--output-dir', '.', '--platform', '--no-js', ...profile, '--', ...cargoSourceArgs()],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
