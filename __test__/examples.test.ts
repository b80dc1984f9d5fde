import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/fs.js';
import { DIST, ROOT, runCli } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const EXAMPLE = join(ROOT, 'examples', 'relu');
const VARIANT = 'build/torch210-cxx11-cpu-x86_64-linux';
const exampleArgs = (root: string) => ['verify', root, '--offline', '--trusted-root', join(root, 'trusted_root.json'), '--policy', join(root, 'policy.json')];

describe('the bundled examples', () => {
  it('the Quick start example verifies', async () => {
    const { code, stdout, stderr } = await runCli(exampleArgs(EXAMPLE));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`✅ ${join(EXAMPLE, VARIANT)}: kernel metadata is correctly signed`);
    expect(stdout).toContain('signed by https://github.com/kernelseal-examples/relu/.github/workflows/build.yaml@refs/heads/main');
  });

  it('a copy of the example with one byte changed fails, naming the file', async () => {
    const copy = join(tempDir(), 'relu');
    cpSync(EXAMPLE, copy, { recursive: true });
    const file = join(copy, VARIANT, 'layers.py');
    writeFileSync(file, readFileSync(file, 'utf8').replace('ReLU', 'ReLu'));
    const { code, stdout } = await runCli(exampleArgs(copy));
    expect(code).toBe(1);
    expect(stdout).toMatch(/kernel integrity check failed\nFile hash mismatch for layers\.py: expected: \S+, got: \S+\n$/);
  });

  it('the GitHub Actions example policy is a valid policy that pins the issuer', () => {
    const policy = ks.parsePolicy(JSON.parse(readFileSync(join(ROOT, 'examples', 'github-actions', 'policy.json'), 'utf8')));
    expect(policy.pinsIssuer).toBe(true);
    expect(policy.description).toBe('builds of my-org/my-kernel on main by its build workflow');
    const workflow = readFileSync(join(ROOT, 'examples', 'github-actions', 'sign-kernel.yml'), 'utf8');
    expect(workflow).toContain('id-token: write');
    expect(workflow).toMatch(/kernelseal@\S+ sign build\//);
  });

  it('the publisher list refresh example signs with the online key outside the folder and uploads one commit on top of the one it read', () => {
    const workflow = readFileSync(join(ROOT, 'examples', 'github-actions', 'publishers-refresh.yml'), 'utf8');
    expect(workflow).toMatch(/schedule:\n\s+- cron: /);
    expect(workflow).toMatch(/kernelseal@\S+ publishers sign list --keys "\$RUNNER_TEMP\/keys"/);
    expect(workflow).toMatch(/kernelseal@\S+ publishers check list --root \S+/);
    expect(workflow).toMatch(/upload_folder\([\s\S]*parent_commit=os.environ\["LIST_COMMIT"\]/);
  });
});
