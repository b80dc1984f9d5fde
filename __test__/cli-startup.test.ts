import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/fs.js';
import { CLI, ROOT } from './helpers/package.js';

/**
 * What each command loads (src/cli/main.ts): the main help and --version import no command,
 * and a command imports its own module and what it uses, not every other command's (the
 * Sigstore signing, TUF and HTTP libraries). Start-up time itself is measured by the bench
 * (`kernelseal bench`, start-up rows), never here.
 */
function modulesLoadedBy(args: string[]): { status: number | null; stdout: string; modules: string[] } {
  // A module hook that lists every module loaded, printed as JSON on stderr at exit.
  const hook = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    process.on('exit', () => process.stderr.write(JSON.stringify(loaded)));`;
  const result = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const modules = (JSON.parse(result.stderr.slice(result.stderr.lastIndexOf('["'))) as string[]).map((url) =>
    url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/'),
  );
  return { status: result.status, stdout: result.stdout, modules };
}

const commandModules = (modules: string[]) => modules.filter((url) => /^dist\/cli\/.*-command\.js$/.test(url));
const packages = (modules: string[]) => [...new Set(modules.filter((url) => url.startsWith('node_modules/')).map((url) => url.split('/').slice(1, 3).join('/')))];

describe('start-up: each command loads what it uses', () => {
  it('the main help lists every command without loading one', () => {
    const { status, stdout, modules } = modulesLoadedBy(['--help']);
    expect(status).toBe(0);
    for (const name of ['verify', 'verify-bundle', 'verify-attestation', 'verify-release', 'fetch', 'sign', 'sign-blob', 'verify-model', 'sign-model', 'attest', 'digest', 'bench', 'publishers']) {
      expect(stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    }
    expect(commandModules(modules)).toEqual([]);
    expect(packages(modules)).toEqual([]);
  });

  it('--version loads the native digest backend and no command, no package, nothing of the pure backend but its face', () => {
    const { status, stdout, modules } = modulesLoadedBy(['--version']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^kernelseal \S+ \(node v[\d.]+, digest backend: native\)$/m);
    expect(commandModules(modules)).toEqual([]);
    expect(packages(modules)).toEqual([]);
    expect(modules.filter((url) => url.startsWith('dist/hashing/pure/'))).toEqual(['dist/hashing/pure/backend.js']);
  });

  it("keeps Node's compile cache in the user's cache folder, private, unless NODE_DISABLE_COMPILE_CACHE is set", () => {
    const [cached, uncached] = [tempDir(), tempDir()];
    const { NODE_DISABLE_COMPILE_CACHE: _, ...inherited } = process.env;
    const run = (home: string, env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [CLI, '--version'], { cwd: ROOT, encoding: 'utf8', env: { ...inherited, XDG_CACHE_HOME: home, ...env } });
    expect(run(cached).status).toBe(0);
    const dir = join(cached, 'kernelseal', 'compile-cache');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir, { recursive: true }).length).toBeGreaterThan(1);
    expect(run(uncached, { NODE_DISABLE_COMPILE_CACHE: '1' }).status).toBe(0);
    expect(existsSync(join(uncached, 'kernelseal'))).toBe(false);
  });

  it('verify loads its own command and the verifying libraries, not the signing ones', () => {
    const { status, modules } = modulesLoadedBy(['verify', 'examples/relu', '--offline', '--trusted-root', 'examples/relu/trusted_root.json', '--policy', 'examples/relu/policy.json']);
    expect(status).toBe(0);
    expect(commandModules(modules)).toEqual(['dist/cli/verify-command.js']);
    expect(packages(modules)).toContain('@sigstore/verify');
    expect(packages(modules)).not.toContain('@sigstore/sign');
  });

  it('digest loads its own command and no package at all (no Sigstore, TUF or HTTP): it is compared with sha256sum and b3sum, start to exit', () => {
    const { status, stdout, modules } = modulesLoadedBy(['digest', 'examples/relu', '--json']);
    expect(status).toBe(0);
    expect(JSON.parse(stdout).results.length).toBeGreaterThan(0);
    expect(commandModules(modules)).toEqual(['dist/cli/digest-command.js']);
    expect(packages(modules)).toEqual([]);
  });

  it.each([
    ['verify', 'verify'],
    ['verify-signature', 'verify'],
    ['verify-blob', 'verify-bundle'],
    ['digest', 'digest'],
    ['sign-model', 'sign-model'],
  ])('%s --help loads the %s command alone and prints its help', (typed, name) => {
    const { status, stdout, modules } = modulesLoadedBy([typed, '--help']);
    expect(status).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: kernelseal ${name} `));
    expect(commandModules(modules)).toEqual([`dist/cli/${name}-command.js`]);
  });
});
