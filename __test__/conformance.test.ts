import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, testdata } from './helpers/package.js';

// The bundle-verify cases of sigstore-conformance, through `kernelseal verify-bundle` with the
// conformance client protocol. Each case runs twice: with the artifact's path, and with
// sha256:<hex> in its place. A name ending in _fail must fail; every other must pass.
const CASES = testdata('sigstore-conformance');
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

const names = readdirSync(CASES).filter((name) => statSync(join(CASES, name)).isDirectory()).sort();

function argsFor(name: string, mode: 'path' | 'digest'): string[] {
  const dir = join(CASES, name);
  const file = (f: string) => join(dir, f);
  const artifact = existsSync(file('artifact')) ? file('artifact') : join(CASES, 'a.txt');
  const args = ['verify-bundle', '--offline', '--bundle', file('bundle.sigstore.json')];
  if (existsSync(file('trusted_root.json'))) args.push('--trusted-root', file('trusted_root.json'));
  if (existsSync(file('key.pub'))) {
    args.push('--key', file('key.pub'));
  } else {
    const read = (f: string, fallback: string) => (existsSync(file(f)) ? readFileSync(file(f), 'utf8').trim() : fallback);
    args.push('--certificate-identity', read('identity', DEFAULT_IDENTITY), '--certificate-oidc-issuer', read('issuer', DEFAULT_ISSUER));
  }
  args.push(mode === 'path' ? artifact : `sha256:${createHash('sha256').update(readFileSync(artifact)).digest('hex')}`);
  return args;
}

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
