import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { tempDir, writeTree } from './helpers/fs.js';
import { DIST, internal } from './helpers/package.js';

const {
  Digest,
  DigestValidationError,
  HashMismatch,
  MissingFile,
  UnknownFile,
  AlgorithmMismatch,
  createNativeBackend,
  pureBackend,
  hashVariant,
} = (await import(DIST)) as typeof import('../dist/index.js');
const { compareByteOrder } = (await import(internal('digest/byte-order.js'))) as typeof import('../dist/digest/byte-order.js');

const backends = [createNativeBackend(), pureBackend];
const b64 = (algorithm: string, data: string | Buffer) => createHash(algorithm).update(data).digest('base64');

describe('Digest', () => {
  it.each(backends)('hashes hello world to the published vectors ($name backend)', async (backend) => {
    const dir = writeTree(tempDir(), { 'hello.txt': 'hello world' });
    const sha256 = await hashVariant('sha256', dir, { backend });
    const sha512 = await hashVariant('sha512', dir, { backend });
    expect(sha256.files.get('hello.txt')).toBe('uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=');
    expect(sha512.files.get('hello.txt')).toBe(
      'MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw==',
    );
  });

  it('renders the validation oracle exactly: mismatch, missing, unknown', async () => {
    const expectedDir = writeTree(tempDir(), { 'gone.py': 'print(1)', 'changed.so': 'original' });
    const actualDir = writeTree(tempDir(), { 'changed.so': 'tampered', 'extra.bin': 'x' });
    const expected = await hashVariant('sha256', expectedDir);
    const actual = await hashVariant('sha256', actualDir);
    const e = b64('sha256', 'original');
    const g = b64('sha256', 'tampered');
    let caught: unknown;
    try {
      expected.validate(actual);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DigestValidationError);
    const error = caught as InstanceType<typeof DigestValidationError>;
    expect(error.message).toBe(
      `kernel does not match the expected digest:\nFile hash mismatch for changed.so: expected: ${e}, got: ${g}\nMissing file: gone.py\nUnknown file: extra.bin`,
    );
    expect(error.violations.map((v) => v.kind)).toEqual(['hash-mismatch', 'missing-file', 'unknown-file']);
    expect(error.violations[0]).toBeInstanceOf(HashMismatch);
    expect(error.violations[0]).toMatchObject({ path: 'changed.so', expected: e, actual: g });
    expect(String(error.violations[1])).toBe('Missing file: gone.py');
    expect(error.violations[1]).toBeInstanceOf(MissingFile);
    expect(error.violations[2]).toBeInstanceOf(UnknownFile);
  });

  it('puts an algorithm mismatch first, with the names in capitals', () => {
    const expected = Digest.fromJSON({ algorithm: 'sha256', files: {} });
    const actual = Digest.fromJSON({ algorithm: 'sha512', files: { 'a.py': b64('sha512', 'a') } });
    const violations = expected.violations(actual);
    expect(violations[0]).toBeInstanceOf(AlgorithmMismatch);
    expect(violations.map(String)).toEqual(['Algorithm mismatch: expected: SHA256, got: SHA512', 'Unknown file: a.py']);
  });

  it('walks expected paths in byte order, not UTF-16 order', () => {
    const files = { '\u{1F600}.py': b64('sha256', '1'), '\u{FF5E}.py': b64('sha256', '2') };
    const expected = Digest.fromJSON({ algorithm: 'sha256', files });
    const actual = Digest.fromJSON({ algorithm: 'sha256', files: {} });
    // U+FF5E is EF BD 9E in UTF-8, before F0 9F 98 80; in UTF-16 it sorts after the surrogates.
    expect(expected.violations(actual).map(String)).toEqual(['Missing file: \u{FF5E}.py', 'Missing file: \u{1F600}.py']);
    expect(['\u{1F600}', '\u{FF5E}', 'b', 'B'].sort(compareByteOrder)).toEqual(['B', 'b', '\u{FF5E}', '\u{1F600}']);
  });

  it('round-trips the metadata digest object through fromJSON and toJSON', () => {
    const json = { algorithm: 'sha256', files: { 'b.py': b64('sha256', 'b'), 'a/x.so': b64('sha256', 'x') } };
    const digest = Digest.fromJSON(json);
    expect(digest.algorithm).toBe('sha256');
    expect([...digest.files.keys()]).toEqual(['a/x.so', 'b.py']);
    expect(JSON.parse(JSON.stringify(digest))).toEqual(json);
    expect(Object.keys(digest.toJSON().files)).toEqual(['a/x.so', 'b.py']);
  });

  it.each([
    ['a non-object', 'sha256', /digest must be an object/],
    ['an unknown algorithm', { algorithm: 'md5', files: {} }, 'digest.algorithm must be one of sha256, sha512, blake3, blake2b, not "md5"'],
    ['files as an array', { algorithm: 'sha256', files: [] }, /digest.files must be an object/],
    ['a hex hash', { algorithm: 'sha256', files: { a: 'ab'.repeat(32) } }, /padded base64 of a sha256 hash/],
    ['an unpadded hash', { algorithm: 'sha256', files: { a: b64('sha256', 'a').replace('=', '') } }, /44 characters/],
    ['a URL-safe hash', { algorithm: 'sha256', files: { a: 'uU0nuZNNPgilLlLX2n2r-sSE7-N6U4DukIj3rOLvzek=' } }, /padded base64/],
    ['a sha512-length hash under sha256', { algorithm: 'sha256', files: { a: b64('sha512', 'a') } }, /padded base64/],
    ['a hash that is not a string', { algorithm: 'sha512', files: { a: 42 } }, /padded base64 of a sha512 hash/],
    ['a non-canonical base64 spelling', { algorithm: 'sha256', files: { a: 'uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzel=' } }, /padded base64/],
  ])('fromJSON rejects %s', (_name, value, message) => {
    expect(() => Digest.fromJSON(value)).toThrow(message);
  });

  it('refuses an unknown algorithm before touching the disk', async () => {
    await expect(hashVariant('md5' as never, '/nonexistent')).rejects.toThrow(TypeError);
  });

  it('accepts identical digests without complaint', async () => {
    const dir = writeTree(tempDir(), { 'x.py': 'x', 'y/z.so': 'z' });
    const a = await hashVariant('sha512', dir);
    const b = await hashVariant('sha512', dir, { backend: pureBackend });
    expect(() => a.validate(b)).not.toThrow();
    expect(a.violations(b)).toEqual([]);
  });

  it('compares raw hashes as the full comparison does: none when they agree, the same violations when not', () => {
    const raw = (...texts: string[]) => Buffer.concat(texts.map((t) => createHash('sha256').update(t).digest()));
    const expected = Digest.fromJSON({ algorithm: 'sha256', files: { 'a.py': b64('sha256', 'a'), 'b.so': b64('sha256', 'b'), 'c.py': b64('sha256', 'c') } });
    expect(expected.violationsOfRaw('sha256', ['a.py', 'b.so', 'c.py'], raw('a', 'b', 'c'))).toEqual([]);
    // Each kind of difference, and a repeated path that keeps the count (it must not vouch for c.py).
    const cases: [string[], Buffer, string][] = [
      [['a.py', 'b.so', 'c.py'], raw('a', 'B', 'c'), 'sha256'],
      [['a.py', 'b.so'], raw('a', 'b'), 'sha256'],
      [['a.py', 'b.so', 'c.py', 'd.py'], raw('a', 'b', 'c', 'd'), 'sha256'],
      [['a.py', 'b.so', 'b.so'], raw('a', 'b', 'b'), 'sha256'],
      [['a.py', 'b.so', 'x.py'], raw('a', 'b', 'c'), 'sha256'],
    ];
    for (const [paths, digests, algorithm] of cases) {
      const violations = expected.violationsOfRaw(algorithm as 'sha256', paths, digests);
      expect(violations.length).toBeGreaterThan(0);
      expect(violations.map(String)).toEqual(expected.violations(Digest.fromRaw('sha256', paths, digests)).map(String));
    }
    const sha512 = Buffer.concat(['a', 'b', 'c'].map((t) => createHash('sha512').update(t).digest()));
    expect(expected.violationsOfRaw('sha512', ['a.py', 'b.so', 'c.py'], sha512).map(String)[0]).toBe('Algorithm mismatch: expected: SHA256, got: SHA512');
  });
});
