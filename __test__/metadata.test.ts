import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DIST, testdata } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const bytes = (value: unknown) => (Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
const minimal = { name: 'relu', id: '_relu_abc', version: 1, license: 'Apache-2.0', 'python-depends': [], backend: { type: 'cuda', archs: ['8.0'] } };

describe('metadata.json', () => {
  it('reads a real Hub metadata.json with its digest and legacy provenance', () => {
    const metadata = ks.parseMetadata(readFileSync(testdata('kernels', 'legacy-sha-provenance.metadata.json')));
    expect(metadata).toMatchObject({ name: 'einops', id: '_einops_cpu_d45adda', version: 1, license: 'MIT', backend: { type: 'cpu' } });
    expect(metadata.digest?.algorithm).toBe('sha256');
    expect(metadata.digest?.files.size).toBe(18);
    expect(metadata.upstream).toBe('https://github.com/arogozhnikov/einops.git');
  });

  it('reads the optional keys and ignores unknown ones', () => {
    const metadata = ks.parseMetadata(
      bytes({ ...minimal, 'kernel-depends': [{ 'repo-id': 'kernels-community/a', version: 2 }, { 'repo-id': 'b/c', revision: 'abc' }], 'kernels-minver': '0.16', future: { x: 1 } }),
    );
    expect(metadata.kernelDepends).toEqual([{ repoId: 'kernels-community/a', version: 2 }, { repoId: 'b/c', revision: 'abc' }]);
    expect(metadata.digest).toBeUndefined();
  });

  it.each([
    ['not JSON', '{"name": ', /not valid JSON/],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), /not valid UTF-8/],
    ['an array', [], /metadata must be an object/],
    ['a bad name', { ...minimal, name: 'ReLU' }, /name "ReLU" does not match/],
    ['a name ending in a dash', { ...minimal, name: 'relu-' }, /does not match/],
    ['a missing id', { ...minimal, id: undefined }, /id must be a string \(missing\)/],
    ['a negative version', { ...minimal, version: -1 }, /version must be an unsigned integer/],
    ['a fractional version', { ...minimal, version: 1.5 }, /version must be an unsigned integer/],
    ['a huge version', { ...minimal, version: 2 ** 60 }, /version must be an unsigned integer/],
    ['python-depends of numbers', { ...minimal, 'python-depends': [1] }, /python-depends must be an array of strings/],
    ['an unknown backend', { ...minimal, backend: { type: 'quantum' } }, /backend.type "quantum" is not one of/],
    ['archs that are not strings', { ...minimal, backend: { type: 'cuda', archs: 8 } }, /backend.archs must be an array of strings/],
    ['a dependency with both version and revision', { ...minimal, 'kernel-depends': [{ 'repo-id': 'a/b', version: 1, revision: 'x' }] }, /exactly one of version and revision/],
    ['a blake3 digest', { ...minimal, digest: { algorithm: 'blake3', files: {} } }, /digest.algorithm must be "sha256" or "sha512", not "blake3"/],
    ['an md5 digest', { ...minimal, digest: { algorithm: 'md5', files: {} } }, /digest.algorithm must be/],
    ['a hex hash', { ...minimal, digest: { algorithm: 'sha256', files: { 'a.py': 'ab'.repeat(32) } } }, /padded base64/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => ks.parseMetadata(bytes(value as never))).toThrow(message);
  });
});
