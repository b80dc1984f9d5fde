#!/usr/bin/env node
// Runs cargo with the crate source chosen by cargo-source.mjs: `node scripts/cargo.mjs test`.
import { spawnSync } from 'node:child_process';
import { cargoSourceArgs } from './cargo-source.mjs';

const [command, ...rest] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/cargo.mjs <cargo command> [args...]');
  process.exit(2);
}
const result = spawnSync('cargo', [command, ...cargoSourceArgs(), ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
