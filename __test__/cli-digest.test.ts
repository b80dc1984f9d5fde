import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeTree } from './helpers/fs.js';
import { ROOT, runCli } from './helpers/package.js';

const b64 = (algorithm: string, data: string) => createHash(algorithm).update(data).digest('base64');

function variant(): string {
  return writeTree(tempDir(), {
    '__init__.py': 'from ._ops import ops\n',
    '_relu.abi3.so': 'ELF...',
    '1': 'a file whose name is an integer',
    'metadata.json': JSON.stringify({ name: 'relu', version: 1, license: 'Apache-2.0' }, null, 2),
  });
}

describe('kernelseal digest', () => {
  it('lists each file with its padded base64 hash, then the totals and the backend', async () => {
    const dir = variant();
    const { code, stdout, stderr } = await runCli(['digest', dir]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `${b64('sha256', 'a file whose name is an integer')}  1`,
      `${b64('sha256', 'from ._ops import ops\n')}  __init__.py`,
      `${b64('sha256', 'ELF...')}  _relu.abi3.so`,
    ]);
    expect(lines[3]).toMatch(/^sha256: 3 files, 59 B in \d+\.\d\d s \(\d+\.\d\d GB\/s, native backend\)$/);
  });

  it('--json gives each result exactly the digest object, files in byte order', async () => {
    const dir = variant();
    const { code, stdout } = await runCli(['digest', dir, '--json', '--algorithm', 'sha512']);
    expect(code).toBe(0);
    const [result] = JSON.parse(stdout).results;
    expect(result).toMatchObject({ subject: dir, ok: true, status: 'hashed', bytes: 59 });
    expect(JSON.stringify(result.digest)).toBe(
      `{"algorithm":"sha512","files":{"1":"${b64('sha512', 'a file whose name is an integer')}",` +
        `"__init__.py":"${b64('sha512', 'from ._ops import ops\n')}","_relu.abi3.so":"${b64('sha512', 'ELF...')}"}}`,
    );
  });

  it('hashes each variant of a kernel directory on its own, naming them', async () => {
    const kernel = tempDir();
    const one = join(kernel, 'build', 'torch210-cxx11-cpu-x86_64-linux');
    const two = join(kernel, 'build', 'torch29-cxx11-cpu-x86_64-linux');
    writeTree(one, { '__init__.py': 'one\n', 'metadata.json': '{}' });
    writeTree(two, { '__init__.py': 'two\n', 'metadata.json': '{}' });
    const { code, stdout } = await runCli(['digest', kernel]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${b64('sha256', 'one\n')}  build/torch210-cxx11-cpu-x86_64-linux/__init__.py`);
    expect(lines[1]).toMatch(/^sha256 build\/torch210-cxx11-cpu-x86_64-linux: 1 file, 4 B in /);
    expect(lines[2]).toBe(`${b64('sha256', 'two\n')}  build/torch29-cxx11-cpu-x86_64-linux/__init__.py`);
    expect(lines[3]).toMatch(/^sha256 build\/torch29-cxx11-cpu-x86_64-linux: 1 file, 4 B in /);
    const json = JSON.parse((await runCli(['digest', kernel, '--json'])).stdout);
    expect(json.results.map((r: { subject: string; digest: { files: object } }) => [r.subject, Object.keys(r.digest.files)])).toEqual([
      [one, ['__init__.py']],
      [two, ['__init__.py']],
    ]);
    // --write and --check go to each variant's own metadata.json.
    expect((await runCli(['digest', kernel, '--write'])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(two, 'metadata.json'), 'utf8')).digest.files).toEqual({ '__init__.py': b64('sha256', 'two\n') });
    writeFileSync(join(one, '__init__.py'), 'changed\n');
    const check = await runCli(['digest', kernel, '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`❌ ${one}: kernel integrity check failed`);
    expect(check.stdout).toContain(`✅ ${two}: all 1 file (4 B) re-hashed and match`);
  });

  it('--write changes only the digest member: every other byte of metadata.json stays as written', async () => {
    const dir = variant();
    const original = '{\n  "name": "relu",\n  "version": 1.0,\n  "id": 12345678901234567890123,\n  "scale": 1e400,\n  "digest": {"algorithm": "sha512", "files": {}},\n  "tags": [ "a",  "b" ]\n}\n';
    writeFileSync(join(dir, 'metadata.json'), original);
    const { code } = await runCli(['digest', dir, '--write']);
    expect(code).toBe(0);
    const written = readFileSync(join(dir, 'metadata.json'), 'utf8');
    const digestStart = original.indexOf('{"algorithm"');
    const digestEnd = original.indexOf('},\n  "tags"') + 1;
    expect(written.slice(0, digestStart)).toBe(original.slice(0, digestStart));
    expect(written.endsWith(original.slice(digestEnd))).toBe(true);
    expect(JSON.parse(written).digest.files['__init__.py']).toBe(b64('sha256', 'from ._ops import ops\n'));
  });

  it('--write stores the digest into metadata.json, keeping the other fields, like the reference writer', async () => {
    const dir = variant();
    chmodSync(join(dir, 'metadata.json'), 0o640);
    const { code, stderr } = await runCli(['digest', dir, '--write']);
    expect(code).toBe(0);
    expect(stderr).toBe(`wrote the sha256 digest of 3 files to ${join(dir, 'metadata.json')}\n`);
    const written = readFileSync(join(dir, 'metadata.json'), 'utf8');
    expect(written).toBe(
      [
        '{',
        '  "name": "relu",',
        '  "version": 1,',
        '  "license": "Apache-2.0",',
        '  "digest": {',
        '    "algorithm": "sha256",',
        '    "files": {',
        `      "1": "${b64('sha256', 'a file whose name is an integer')}",`,
        `      "__init__.py": "${b64('sha256', 'from ._ops import ops\n')}",`,
        `      "_relu.abi3.so": "${b64('sha256', 'ELF...')}"`,
        '    }',
        '  }',
        '}',
      ].join('\n'),
    );
    expect(statSync(join(dir, 'metadata.json')).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    // Writing again replaces the digest in place and changes nothing else.
    await runCli(['digest', dir, '--write']);
    expect(readFileSync(join(dir, 'metadata.json'), 'utf8')).toBe(written);
  });

  it('--write refuses blake3 with a clear message and exit code 2', async () => {
    const dir = variant();
    const before = readFileSync(join(dir, 'metadata.json'), 'utf8');
    const { code, stderr } = await runCli(['digest', dir, '--write', '--algorithm', 'blake3']);
    expect(code).toBe(2);
    expect(stderr).toContain('--write cannot store a blake3 digest: kernels metadata.json accepts only sha256 and sha512');
    expect(readFileSync(join(dir, 'metadata.json'), 'utf8')).toBe(before);
  });

  it('--write names a missing or broken metadata.json and leaves it untouched', async () => {
    const dir = writeTree(tempDir(), { 'a.py': 'a' });
    const missing = await runCli(['digest', dir, '--write']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${join(dir, 'metadata.json')}: not found`);
    writeFileSync(join(dir, 'metadata.json'), '{"name": ');
    const broken = await runCli(['digest', dir, '--write']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`${join(dir, 'metadata.json')}: not valid JSON`);
    expect(readFileSync(join(dir, 'metadata.json'), 'utf8')).toBe('{"name": ');
  });

  it('exits 2 naming the directory when it does not exist, as on usage errors', async () => {
    const missing = await runCli(['digest', '/nonexistent/variant']);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toBe("kernelseal digest: /nonexistent/variant: no such directory\nRun 'kernelseal digest --help' for usage.\n");
    expect((await runCli(['digest'])).code).toBe(2);
    expect((await runCli(['digest', 'a', 'b'])).code).toBe(2);
    const badAlgorithm = await runCli(['digest', '.', '--algorithm', 'md5']);
    expect(badAlgorithm.code).toBe(2);
    expect(badAlgorithm.stderr).toContain('--algorithm must be one of sha256, sha512, blake3');
    const unknownFlag = await runCli(['digest', '.', '--frobnicate']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("unknown option '--frobnicate'");
  });

  it('--check passes an untouched variant and lists every violation of a tampered one', async () => {
    const dir = variant();
    await runCli(['digest', dir, '--write', '--algorithm', 'sha512']);
    const ok = await runCli(['digest', dir, '--check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(
      `✅ ${dir}: all 3 files (59 B) re-hashed and match the sha512 digest in metadata.json (the signature was not checked: use 'kernelseal verify')\n`,
    );
    writeFileSync(join(dir, '_relu.abi3.so'), 'ELF..!');
    writeFileSync(join(dir, 'new.py'), 'planted');
    const bad = await runCli(['digest', dir, '--check']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe(
      `❌ ${dir}: kernel integrity check failed\n` +
        `File hash mismatch for _relu.abi3.so: expected: ${b64('sha512', 'ELF...')}, got: ${b64('sha512', 'ELF..!')}\n` +
        'Unknown file: new.py\n',
    );
    const json = JSON.parse((await runCli(['digest', dir, '--check', '--json'])).stdout);
    expect([json.ok, json.exitCode, json.results[0].status]).toEqual([false, 1, 'digest-mismatch']);
    expect(json.results[0].violations.map((v: { kind: string }) => v.kind)).toEqual(['hash-mismatch', 'unknown-file']);
  });

  it('--check says when metadata.json has no digest', async () => {
    const dir = variant();
    const { code, stderr } = await runCli(['digest', dir, '--check']);
    expect(code).toBe(1);
    expect(stderr).toBe(`kernelseal digest: ${join(dir, 'metadata.json')}: metadata does not have a digest\n`);
  });

  it('--help teaches the command with examples', async () => {
    const { code, stdout } = await runCli(['digest', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: kernelseal digest <variant-dir | kernel-dir>');
    expect(stdout).toContain('Examples:');
    expect(stdout).toContain('KERNELSEAL_DIGEST_BACKEND');
  });
});

describe('digest backend selection', () => {
  it('KERNELSEAL_DIGEST_BACKEND=pure forces the pure backend, and says so', async () => {
    const dir = variant();
    const { code, stdout } = await runCli(['digest', dir], { env: { KERNELSEAL_DIGEST_BACKEND: 'pure' } });
    expect(code).toBe(0);
    expect(stdout).toMatch(/, pure backend\)\n$/);
    const version = await runCli(['--version'], { env: { KERNELSEAL_DIGEST_BACKEND: 'pure' } });
    expect(version.stdout).toMatch(/digest backend: pure/);
  });

  it('reports the native backend by default where the addon is built', async () => {
    const { stdout } = await runCli(['--version']);
    expect(stdout).toMatch(/^kernelseal \d+\.\d+\.\d+ \(node v\d+\.\d+\.\d+, digest backend: native\)\n$/);
  });

  it('falls back to pure without the addon, and forcing native then is an error', async () => {
    // A copy of the package without the addon file.
    const copy = tempDir();
    for (const part of ['dist', 'bin', 'package.json']) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    mkdirSync(join(copy, 'variant'));
    writeFileSync(join(copy, 'variant', 'a.py'), 'a');
    const cli = join(copy, 'bin', 'kernelseal.js');
    const fallback = await runCli(['digest', 'variant'], { cwd: copy, cli, env: { KERNELSEAL_DIGEST_BACKEND: '' } });
    expect(fallback.code).toBe(0);
    expect(fallback.stdout).toMatch(/, pure backend\)\n$/);
    const version = await runCli(['--version'], { cwd: copy, cli });
    expect(version.stdout).toContain('digest backend: pure; native unavailable: the native digest addon is not available');

    const forced = await runCli(['digest', 'variant'], { cwd: copy, cli, env: { KERNELSEAL_DIGEST_BACKEND: 'native' } });
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain('KERNELSEAL_DIGEST_BACKEND=native, but the native digest addon is not available');
    expect(forced.stdout).toBe('');
  });

  it('rejects an unknown backend name in one line, exit 2, from every command and --version', async () => {
    const dir = variant();
    const line = 'KERNELSEAL_DIGEST_BACKEND must be "native" or "pure", not "gpu"';
    const example = ['examples/relu', '--offline', '--trusted-root', 'examples/relu/trusted_root.json', '--policy', 'examples/relu/policy.json'];
    for (const args of [['digest', dir], ['--version'], ['verify', ...example]]) {
      const { code, stderr } = await runCli(args, { env: { KERNELSEAL_DIGEST_BACKEND: 'gpu' } });
      expect([args[0], code, stderr]).toEqual([args[0], 2, `${args[0] === '--version' ? 'kernelseal' : `kernelseal ${args[0]}`}: ${line}\n`]);
    }
    const json = await runCli(['digest', dir, '--json'], { env: { KERNELSEAL_DIGEST_BACKEND: 'gpu' } });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'DIGEST_BACKEND_UNAVAILABLE', message: line } });
  });
});
