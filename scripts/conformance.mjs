#!/usr/bin/env node
// Runs sigstore-conformance's whole bundle-verify suite against kernelseal, the way the suite's
// own harness does (test/test_bundle.py test_verify with its verify_bundle fixture, the CLI
// protocol of sigstore-conformance/docs/cli_protocol.md): every directory under test/assets/bundle-verify, each
// verified twice, with the artifact's path and with sha256:<hex> in its place. A directory named
// *_fail must fail, any other must pass. The suite counts any non-zero exit as a failure; here a
// failure must be a verdict (exit 1): a usage error or a crash (exit 2 and up) never counts. Where a case names no trusted root, the
// suite uses Sigstore's production instance: here its root as pinned in kernelseal (--offline),
// since this machine has no route to TUF.
//
//   node scripts/conformance.mjs PATH-TO-A-SIGSTORE-CONFORMANCE-CHECKOUT [--json] [--only NAME]
//   npm run conformance -- PATH
//
// The checkout is not part of this repository (fetch it at the release you test: the cases
// this repository tests on every run are the subset vendored in __test__/fixtures). Exit 0
// when every case gave its expected outcome, 1 otherwise.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../bin/kernelseal.js', import.meta.url));
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * The command the suite's client.build_verify_args makes for one case (`dir`, in the folder of
 * cases `assets`), with the artifact's path or its digest (`mode`: 'path' or 'digest').
 */
export function verifyArgs(assets, dir, mode) {
  const file = (name) => join(dir, name);
  const artifact = existsSync(file('artifact')) ? file('artifact') : join(assets, 'a.txt');
  const command = ['verify-bundle', '--offline', '--bundle', file('bundle.sigstore.json')];
  if (existsSync(file('trusted_root.json'))) command.push('--trusted-root', file('trusted_root.json'));
  if (existsSync(file('key.pub'))) {
    command.push('--key', file('key.pub'));
  } else {
    const read = (name, fallback) => (existsSync(file(name)) ? readFileSync(file(name), 'utf8').trim() : fallback);
    command.push('--certificate-identity', read('identity', DEFAULT_IDENTITY), '--certificate-oidc-issuer', read('issuer', DEFAULT_ISSUER));
  }
  command.push(mode === 'path' ? artifact : `sha256:${createHash('sha256').update(readFileSync(artifact)).digest('hex')}`);
  return command;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

async function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const checkout = args.find((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--only');
  if (!checkout) {
    process.stderr.write('usage: node scripts/conformance.mjs PATH-TO-A-SIGSTORE-CONFORMANCE-CHECKOUT [--json] [--only NAME]\n');
    process.exit(2);
  }
  // The root of a checkout, or a folder of cases itself (as __test__/fixtures/sigstore-conformance).
  const assets = existsSync(join(resolve(checkout), 'a.txt')) ? resolve(checkout) : join(resolve(checkout), 'test', 'assets', 'bundle-verify');
  if (!existsSync(join(assets, 'a.txt'))) {
    process.stderr.write(`conformance: ${assets} not found: give the root of a sigstore-conformance checkout\n`);
    process.exit(2);
  }

  const names = readdirSync(assets)
    .filter((name) => statSync(join(assets, name)).isDirectory() && (!only || name === only))
    .sort();
  const runs = names.flatMap((name) => ['path', 'digest'].map((mode) => ({ name, mode })));
  const results = new Array(runs.length);
  let next = 0;
  // As many runs at once as there are cores: each is a process of its own.
  await Promise.all(
    Array.from({ length: Math.min(availableParallelism(), runs.length) }, async () => {
      for (let i = next++; i < runs.length; i = next++) {
        const { name, mode } = runs[i];
        const expected = name.endsWith('_fail') ? 'fail' : 'pass';
        const { code, output } = await run(verifyArgs(assets, join(assets, name), mode));
        const actual = code === 0 ? 'pass' : code === 1 ? 'fail' : 'error';
        results[i] = { name, mode, expected, actual, ok: actual === expected, code, output };
      }
    }),
  );
  const failed = results.filter((r) => !r.ok);
  if (json) {
    process.stdout.write(`${JSON.stringify({ cases: names.length, runs: results.length, passed: results.length - failed.length, failed: failed.length, results }, null, 2)}\n`);
  } else {
    for (const r of results) process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} [${r.mode}] expected ${r.expected}, got ${r.actual}${r.ok ? '' : `: ${r.output.split('\n').slice(0, 3).join(' | ')}`}\n`);
    process.stdout.write(`\n${names.length} cases, ${results.length} runs: ${results.length - failed.length} passed, ${failed.length} failed\n`);
  }
  process.exit(failed.length === 0 ? 0 : 1);
}

function run(command) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => done({ code, output: output.trim() }));
  });
}
