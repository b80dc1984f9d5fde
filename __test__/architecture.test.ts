// The map of docs/architecture.md, checked against the code: data flows one way (CLI → API →
// products → machinery), the folders form no cycle, products do not reach into each other, and
// nothing under src/ imports from outside it (the bench once imported a test helper).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/package.js';

const SRC = join(ROOT, 'src');

/** Each top-level unit of src/ and its layer: a module imports only from its layer or below. */
const LAYERS: Record<string, number> = {
  cli: 4,
  'index.ts': 3,
  bench: 3,
  kernels: 2,
  model: 2,
  attest: 2,
  sign: 1,
  sigstore: 1,
  trust: 1,
  digest: 1,
  hashing: 1,
  fs: 1,
  json: 1,
  'version.ts': 1,
  'types.ts': 1,
};
const PRODUCTS = ['kernels', 'model', 'attest'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The unit a path under src/ belongs to: its first segment. */
const unitOf = (path: string) => relative(SRC, path).split('/')[0]!;

/** Every relative import (static, dynamic or `new URL`) of every source file, as unit edges. */
const edges = sources(SRC).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|new URL\(\s*)'(\.\.?\/[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((specifier) => {
    const target = resolve(dirname(file), specifier);
    const outside = relative(SRC, target).startsWith('..');
    return { file: relative(ROOT, file), specifier, from: unitOf(file), to: outside ? relative(ROOT, target) : unitOf(target), outside };
  });
});

describe('the map of the code (docs/architecture.md)', () => {
  it('finds the imports it checks', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges.some((e) => e.from === 'kernels' && e.to === 'hashing')).toBe(true);
  });

  it('gives every unit of src/ a layer', () => {
    const units = readdirSync(SRC);
    expect(units.filter((unit) => !(unit in LAYERS))).toEqual([]);
  });

  it('imports nothing from the tests, the scripts or the examples (only what the package ships)', () => {
    const outside = edges.filter((e) => e.outside && /^(__test__|scripts|examples)\//.test(e.to));
    expect(outside.map((e) => `${e.file}: ${e.specifier}`)).toEqual([]);
  });

  it('lets data flow one way: a module imports only its own layer or the layers below', () => {
    const upward = edges.filter((e) => e.to in LAYERS && LAYERS[e.to]! > LAYERS[e.from]!);
    expect(upward.map((e) => `${e.file} (${e.from}) imports ${e.specifier} (${e.to})`)).toEqual([]);
  });

  it('keeps the products apart: kernels, model and attest share machinery, not each other', () => {
    const across = edges.filter((e) => e.from !== e.to && PRODUCTS.includes(e.from) && PRODUCTS.includes(e.to));
    expect(across.map((e) => `${e.file} imports ${e.specifier}`)).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) if (e.from !== e.to && e.to in LAYERS) graph.set(e.from, (graph.get(e.from) ?? new Set()).add(e.to));
    const cycles: string[] = [];
    const visit = (unit: string, path: string[]) => {
      for (const next of graph.get(unit) ?? []) {
        if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' → '));
        else visit(next, [...path, next]);
      }
    };
    for (const unit of graph.keys()) visit(unit, [unit]);
    expect(cycles).toEqual([]);
  });
});

describe('a load from the Hub as its stages (docs/architecture.md, "A load from the Hub")', () => {
  const HUB = join(SRC, 'kernels', 'hub');
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## A load from the Hub'), doc.indexOf('\n## ', doc.indexOf('## A load from the Hub') + 1));
  /** The table's rows: stage number, function, module. */
  const stages = [...section.matchAll(/^\| (\d)\. [^|]+\| `(\w+)` \| `([\w-]+\.ts)` \|/gm)].map((m) => ({ stage: Number(m[1]), name: m[2]!, module: m[3]! }));
  const getKernel = readFileSync(join(HUB, 'get-kernel.ts'), 'utf8');
  /** The body of `load`: from its declaration to the first line that closes it. */
  const load = getKernel.slice(getKernel.indexOf('async function load('), getKernel.indexOf('\n}\n', getKernel.indexOf('async function load(')));

  it('names six stages, in order', () => {
    expect(stages.map((s) => s.stage)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('finds each stage function in the module the doc names', () => {
    const missing = stages.filter(({ name, module }) => !new RegExp(`^(export )?(async )?function ${name}\\(`, 'm').test(readFileSync(join(HUB, module), 'utf8')));
    expect(missing.map((s) => `${s.name} in src/kernels/hub/${s.module}`)).toEqual([]);
  });

  it('has getKernel run the stages in the order of the doc', () => {
    // Where `load` last calls each (a variant taken unsigned records early, and returns).
    const calls = stages.map(({ name }) => Math.max(-1, ...[...load.matchAll(new RegExp(`\\b${name}\\(`, 'g'))].map((m) => m.index)));
    expect(calls.every((at) => at > 0)).toBe(true);
    expect(calls).toEqual([...calls].sort((a, b) => a - b));
  });

  it('keeps every function of src/kernels/hub/ short (60 lines at most, by its prettier indentation)', () => {
    const start = /^( *)(?:export )?(?:async )?function[ *]|^( +)(?:(?:private|protected|static|async|override|get|set) )*[A-Za-z_#]\w*(?:<[^>]*>)?\(/;
    const long = readdirSync(HUB).flatMap((file) => {
      const lines = readFileSync(join(HUB, file), 'utf8').split('\n');
      return lines.flatMap((line, i) => {
        const m = start.exec(line);
        if (!m || /^\s*(if|for|while|switch|return|await|catch)\b/.test(line) || line.trim().endsWith(';')) return [];
        const end = lines.findIndex((l, j) => j > i && l === `${' '.repeat((m[1] ?? m[2])!.length)}}`);
        return end - i + 1 > 60 ? [`${file}:${i + 1} ${line.trim()} (${end - i + 1} lines)`] : [];
      });
    });
    expect(long).toEqual([]);
  });
});
