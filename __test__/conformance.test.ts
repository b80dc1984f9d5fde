import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { ROOT, runCli, testdata } from './helpers/package.js';
// The script that runs the whole suite from a checkout: the same command per case.
import { verifyArgs } from '../scripts/conformance.mjs';

// The bundle-verify cases of sigstore-conformance, through `kernelseal verify-bundle` with the
// conformance client protocol. Each case runs twice: with the artifact's path, and with
// sha256:<hex> in its place. A name ending in _fail must fail; every other must pass.
const CASES = testdata('sigstore-conformance');

const names = readdirSync(CASES).filter((name) => statSync(join(CASES, name)).isDirectory()).sort();

/** The command the suite's harness runs for a case (scripts/conformance.mjs, which runs the whole suite). */
const argsFor = (name: string, mode: 'path' | 'digest'): string[] => verifyArgs(CASES, join(CASES, name), mode);

describe.concurrent('sigstore-conformance bundle-verify cases', () => {
  it('has the cases', () => {
    expect(names.length).toBeGreaterThanOrEqual(50);
  });

  for (const name of names) {
    for (const mode of ['path', 'digest'] as const) {
      const shouldFail = name.endsWith('_fail');
      it(`${name} (${mode}) ${shouldFail ? 'fails' : 'verifies'}`, async () => {
        const { code, stdout, stderr } = await runCli(argsFor(name, mode));
        expect(stderr).toBe('');
        if (shouldFail) {
          expect(code).toBe(1);
          expect(stdout).toMatch(/^❌ .+: .+/);
        } else {
          expect(code).toBe(0);
          expect(stdout).toMatch(/^✅ .+: signature verified; (the artifact \([\d.]+ [kMG]?B\) hashed|over the digest given \(the artifact itself was not read\))\n/);
        }
      });
    }
  }
});

describe('failures name what did not fit', () => {
  it.each([
    ['intoto-expired-certificate_fail', '2023-02-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z to 2030-01-01T00:10:00.000Z'],
    ['intoto-set-outside-signing-cert-validity_fail', '2023-02-02T00:00:00.000Z', '2023-02-01T00:00:00.000Z to 2023-02-01T00:10:00.000Z'],
  ])('%s: the signing time and the certificate validity', async (name, signedAt, validity) => {
    const { code, stdout } = await runCli(argsFor(name, 'path'));
    expect(code).toBe(1);
    expect(stdout).toContain(`certificate is not valid or expired at the specified date (signed at ${signedAt}; the signing certificate is valid from ${validity})`);
  });
});

describe('scripts/conformance.mjs: the whole suite from a checkout', () => {
  const script = join(ROOT, 'scripts', 'conformance.mjs');
  const runScript = (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
      child.on('close', (code) => resolve({ code, stdout }));
    });

  it('runs every case of a checkout twice (path and digest), reports one whose outcome is not the expected one, and exits 1', async () => {
    // A checkout laid out as the suite's: test/assets/bundle-verify, with a failing case renamed
    // as if it had to pass.
    const checkout = tempDir();
    const assets = join(checkout, 'test', 'assets', 'bundle-verify');
    mkdirSync(assets, { recursive: true });
    cpSync(join(CASES, 'a.txt'), join(assets, 'a.txt'));
    cpSync(join(CASES, 'happy-path-v0.3'), join(assets, 'happy-path-v0.3'), { recursive: true });
    cpSync(join(CASES, 'signature-mismatch_fail'), join(assets, 'signature-mismatch'), { recursive: true });
    const { code, stdout } = await runScript(checkout);
    expect(code).toBe(1);
    expect(stdout).toContain('FAIL signature-mismatch [path] expected pass, got fail');
    expect(stdout).toMatch(/2 cases, 4 runs: 2 passed, 2 failed\n$/);
  });
});
