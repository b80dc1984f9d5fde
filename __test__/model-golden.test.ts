// The reference's golden manifests and payloads (model-transparency tests/_serialization and
// tests/_signing), reproduced byte for byte from fixtures built as its conftest builds them.
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeTree } from './helpers/fs.js';
import { DIST, internal, testdata } from './helpers/package.js';

const ks = (await import(DIST)) as typeof import('../dist/index.js');
const { compareResourceNames } = (await import(internal('model/manifest.js'))) as typeof import('../dist/model/manifest.js');
const GOLDEN = testdata('model-signing', 'model-transparency', 'tests');
const KNOWN_MODEL_TEXT = 'This is a simple model';

/** The reference's fixtures (tests/conftest.py), under the names its golden payloads carry. */
function fixtures(): Record<string, string> {
  const root = tempDir('kernelseal-golden-');
  const external = join(root, 'external-target');
  writeFileSync(external, KNOWN_MODEL_TEXT);
  const sample: Record<string, string> = {};
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) sample[`d${i}/f${i}${j}`] = `This is file f${i}${j} in d${i}.`;
  for (let i = 0; i < 4; i++) sample[`f${i}`] = `This is file f${i} in root.`;
  const deep: Record<string, string> = {};
  for (let i = 0; i < 4; i++) deep[`d0/d1/d2/d3/d4/f${i}`] = `This is file f${i}.`;
  const dir = (name: string, tree: Parameters<typeof writeTree>[1]) => {
    mkdirSync(join(root, name));
    return writeTree(join(root, name), tree);
  };
  const file = (name: string, text: string) => {
    writeFileSync(join(root, name), text);
    return join(root, name);
  };
  return {
    sample_model_file: file('file_model', KNOWN_MODEL_TEXT),
    empty_model_file: file('empty_file_model', ''),
    sample_model_folder: dir('sample_model', sample),
    empty_model_folder: dir('empty_folder_model', {}),
    model_folder_with_empty_file: dir('empty_file_inside_model', { empty_file: '' }),
    deep_model_folder: dir('deep_model', deep),
    symlink_model_folder: dir('symlink_model', { symlink_file: { symlink: external } }),
  };
}

const SERIALIZATIONS = {
  '': { method: 'files', hashType: 'sha256', allowSymlinks: true },
  _shard: { method: 'shards', hashType: 'sha256', allowSymlinks: true, shardSize: 1_000_000_000 },
  _small_shards: { method: 'shards', hashType: 'sha256', allowSymlinks: true, shardSize: 8 },
} as const;

describe.each([
  ['native', ks.createNativeBackend()],
  ['pure', ks.pureBackend],
])('golden manifests and payloads, %s backend', (_, backend) => {
  const models = fixtures();

  it('reproduces every signing payload golden byte for byte (21 files)', async () => {
    const goldens = readdirSync(join(GOLDEN, '_signing/testdata/signing/TestPayload'));
    expect(goldens).toHaveLength(21);
    for (const golden of goldens) {
      const [fixture, suffix] = Object.keys(models)
        .flatMap((name) => Object.keys(SERIALIZATIONS).map((s) => [name, s] as const))
        .find(([name, s]) => `${name}${s}` === golden)!;
      const serialization = SERIALIZATIONS[suffix as keyof typeof SERIALIZATIONS];
      const hashed = await ks.hashModel(models[fixture]!, { serialization, backend });
      const payload = ks.statementPayload({ modelName: hashed.modelName, serialization, resources: hashed.resources });
      const expected = readFileSync(join(GOLDEN, '_signing/testdata/signing/TestPayload', golden), 'utf8');
      expect(`${payload.toString('utf8')}\n`, golden).toBe(expected);
    }
  });

  it('reproduces every serialization golden (path:digest, path:start:end:digest), 21 files', async () => {
    const kinds = [
      ['file', ''],
      ['file_shard', '_shard'],
      ['file_shard', '_small_shards'],
    ] as const;
    let compared = 0;
    for (const [kind, suffix] of kinds) {
      for (const [fixture, path] of Object.entries(models)) {
        const name = suffix === '_small_shards' ? `${fixture}_small_shards` : fixture;
        const goldenPath = join(GOLDEN, '_serialization/testdata', kind, 'TestSerializer', name);
        const serialization = SERIALIZATIONS[suffix];
        const { resources } = await ks.hashModel(path, { serialization, backend });
        const lines = resources.map((r) => `${r.name}:${r.digest}\n`).join('');
        expect(lines, `${kind}/${name}`).toBe(readFileSync(goldenPath, 'utf8'));
        compared += 1;
      }
    }
    expect(compared).toBe(21);
  });
});

describe('statement text', () => {
  it('writes shard sizes as Python floats and non-ASCII names as \\u escapes, like MessageToJson', () => {
    const digest = '0'.repeat(64);
    const payload = ks.statementPayload({
      modelName: 'mod\u00e8le',
      serialization: { method: 'shards', hashType: 'sha256', allowSymlinks: false, shardSize: 1e16 },
      resources: [{ name: '\u00e9/\u{1f600}:0:3', algorithm: 'sha256-sharded-10000000000000000', digest }],
    });
    const text = payload.toString('utf8');
    expect(text).toContain('"name": "mod\\u00e8le"');
    expect(text).toContain('"shard_size": 1e+16');
    expect(text).toContain('"name": "\\u00e9/\\ud83d\\ude00:0:3"');
    expect(/[^\x00-\x7f]/.test(text)).toBe(false);
    expect(text.endsWith('}')).toBe(true);
    // A name with escapes reads back as it was (shard sizes past 2^53 are refused on reading).
    const readable = ks.statementPayload({
      modelName: 'm',
      serialization: { method: 'shards', hashType: 'sha256', allowSymlinks: false, shardSize: 8 },
      resources: [{ name: '\u00e9/\u{1f600}:0:3', algorithm: 'sha256-sharded-8', digest }],
    });
    expect(readable.toString('utf8')).toContain('"shard_size": 8.0');
    expect(ks.parseStatement(readable).resources[0]!.name).toBe('\u00e9/\u{1f600}:0:3');
  });

  it('orders resources by path components, then shards by numeric range, as Python sorts them', () => {
    const names = ['é', 'a.txt', 'a b', 'z', 'A', 'a-b/c', 'a/b'];
    expect([...names].sort((a, b) => compareResourceNames(a, b, 'files'))).toEqual(['A', 'a/b', 'a b', 'a-b/c', 'a.txt', 'z', 'é']);
    const shards = ['f:16:22', 'f:8:16', 'f:0:8', 'e:100:200'];
    expect([...shards].sort((a, b) => compareResourceNames(a, b, 'shards'))).toEqual(['e:100:200', 'f:0:8', 'f:8:16', 'f:16:22']);
  });
});
