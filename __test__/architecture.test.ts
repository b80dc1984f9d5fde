// The map of docs/architecture.md, read from the doc itself and checked against the code: data
// flows one way (CLI → API → products → machinery → engine), products do not reach into each
// other, folders and modules form no cycle, the crates depend downward only, and nothing under
// src/ imports from outside it (the bench once imported a test helper).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/package.js';

const SRC = join(ROOT, 'src');
const DOC = 'docs/architecture.md';
const HEADING = '## Data flows one way';

/** One layer of the map, top first: its label ("products"), its units of src/ and its crates. */
interface Layer {
  label: string | undefined;
  rank: number;
  units: string[];
  crates: string[];
  /** The first line of the layer in the doc, to show where a new unit goes. */
  line: string;
}

/**
 * The map: the first code block under HEADING. Layers are separated by lines holding only "│";
 * each line of a layer may start with a label, then names one or more units (`src/x/`,
 * `src/x.ts`, `crates/x`), then says what they hold.
 */
function readMap(): Layer[] {
  const doc = readFileSync(join(ROOT, DOC), 'utf8');
  const block = /```\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf(HEADING)))?.[1];
  if (doc.indexOf(HEADING) < 0 || block === undefined) throw new Error(`${DOC} has no code block under "${HEADING}": the map the architecture test reads`);
  const groups = block.split(/^\s*│\s*$/m).map((group) => group.split('\n').filter((line) => line.trim() !== ''));
  return groups.map((lines, i) => {
    const layer: Layer = { label: undefined, rank: groups.length - i, units: [], crates: [], line: lines[0]! };
    for (const [n, line] of lines.entries()) {
      const words = line.trim().split(/\s+/);
      if (n === 0 && !words[0]!.includes('/')) layer.label = words.shift();
      for (const word of words) {
        const unit = /^src\/([\w.-]+?)\/?$/.exec(word)?.[1];
        const crate = /^crates\/([\w-]+)$/.exec(word)?.[1];
        if (unit) layer.units.push(unit);
        else if (crate) layer.crates.push(crate);
        else break; // what the units hold
      }
    }
    return layer;
  });
}

const MAP = readMap();
/** Each unit of src/ on the map, and its layer's rank: a module imports only from its rank or below. */
const RANK = new Map(MAP.flatMap((layer) => layer.units.map((unit) => [unit, layer.rank] as const)));
const PRODUCTS = MAP.find((layer) => layer.label === 'products')?.units ?? [];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The unit a path under src/ belongs to: its first segment. */
const unitOf = (path: string) => relative(SRC, path).split('/')[0]!;

/**
 * Every relative import of every source file (static, dynamic, type-only, re-export), and every
 * worker it starts (`new URL('./x.js', import.meta.url)`), as edges between modules and units.
 */
const edges = sources(SRC).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)['"](\.\.?\/[^'"]+)['"]/g)];
  return found.map(([, how, specifier]) => {
    const target = resolve(dirname(file), specifier!);
    const outside = relative(SRC, target).startsWith('..');
    return {
      file: relative(ROOT, file),
      module: relative(ROOT, target).replace(/\.js$/, '.ts'),
      specifier: specifier!,
      worker: how!.startsWith('new URL'),
      from: unitOf(file),
      to: outside ? relative(ROOT, target) : unitOf(target),
      outside,
    };
  });
});

/** The cycles of a graph, each once, as "a → b → a". */
function cycles(graph: Map<string, Set<string>>): string[] {
  const found = new Set<string>();
  const visit = (node: string, path: string[]) => {
    for (const next of graph.get(node) ?? []) {
      if (path.includes(next)) {
        const cycle = path.slice(path.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!); // one spelling per cycle
        found.add([...cycle.slice(start), ...cycle.slice(0, start), cycle[start]!].join(' → '));
      } else visit(next, [...path, next]);
    }
  };
  for (const node of graph.keys()) visit(node, [node]);
  return [...found].sort();
}

/** What to add to the doc for a unit of src/ that is not on the map. */
function missingFromMap(unit: string): string {
  const imported = [...new Set(edges.filter((e) => e.from === unit && e.to !== unit && RANK.has(e.to)).map((e) => e.to))];
  const floor = Math.min(...RANK.values()); // the lowest layer with units of src/ (below it, crates)
  const lowest = MAP.find((l) => l.rank === Math.max(floor, ...imported.map((to) => RANK.get(to)!)))!;
  const name = `src/${unit}${statSync(join(SRC, unit)).isDirectory() ? '/' : ''}`;
  return (
    `${name} is not on the map of the code: the code block under "${HEADING}" in ${DOC}. ` +
    `Add a line for it to its layer, "${lowest.label ?? lowest.units.map((u) => `src/${u}`).join(' ')}" or one above ` +
    `(it imports ${imported.map((u) => `src/${u}`).join(', ') || 'nothing of ours'}). The line names it, then says what it holds:\n` +
    `                  ${name.padEnd(16)}<what it holds>`
  );
}

describe(`the map of the code (${DOC})`, () => {
  it('reads the layers from the doc, top to bottom', () => {
    expect(MAP.map((layer) => layer.label ?? layer.units.concat(layer.crates).join(' '))).toEqual(['cli', 'index.ts bench', 'products', 'machinery', 'addon', 'engine']);
    expect(PRODUCTS).toEqual(['kernels', 'model', 'attest']);
    expect(MAP.at(-1)!.crates).toEqual(['engine', 'node-api']);
  });

  it('finds the imports it checks', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges.some((e) => e.from === 'kernels' && e.to === 'hashing')).toBe(true);
    expect(edges.some((e) => e.worker)).toBe(true);
  });

  it('has every unit of src/ on the map, and nothing on the map that is not in src/', () => {
    const units = readdirSync(SRC);
    expect(units.filter((unit) => !RANK.has(unit)).map(missingFromMap)).toEqual([]);
    expect([...RANK.keys()].filter((unit) => !units.includes(unit)).map((unit) => `${DOC} names src/${unit}, which does not exist`)).toEqual([]);
  });

  it('imports nothing from the tests, the scripts or the examples (only what the package ships)', () => {
    const outside = edges.filter((e) => e.outside && /^(__test__|scripts|examples)\//.test(e.to));
    expect(outside.map((e) => `${e.file}: ${e.specifier}`)).toEqual([]);
  });

  it('lets data flow one way: a module imports only its own layer or the layers below', () => {
    const upward = edges.filter((e) => RANK.has(e.to) && RANK.get(e.to)! > RANK.get(e.from)!);
    expect(upward.map((e) => `${e.file} (${e.from}) imports ${e.specifier} (${e.to}), a layer above it in ${DOC}`)).toEqual([]);
  });

  it('lets the command line reach the library through src/cli/library/ only, where what it needs is listed', () => {
    const FACADE = 'src/cli/library/';
    const around = edges.filter((e) => e.from === 'cli' && e.to !== 'cli' && !e.outside && !e.file.startsWith(FACADE));
    expect(around.map((e) => `${e.file} imports ${e.specifier}: import it from a module of ${FACADE} (add it there)`)).toEqual([]);
    expect(edges.filter((e) => e.file.startsWith(FACADE) && e.to !== 'cli').length).toBeGreaterThan(40);
  });

  it('keeps the products apart: kernels, model and attest share machinery, not each other', () => {
    const across = edges.filter((e) => e.from !== e.to && PRODUCTS.includes(e.from) && PRODUCTS.includes(e.to));
    expect(across.map((e) => `${e.file} imports ${e.specifier}`)).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) if (e.from !== e.to && RANK.has(e.to)) graph.set(e.from, (graph.get(e.from) ?? new Set()).add(e.to));
    expect(cycles(graph)).toEqual([]);
  });

  it('has no cycle between modules, inside a folder too (a type-only import counts; a worker started by URL does not)', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) if (!e.worker && !e.outside) graph.set(e.file, (graph.get(e.file) ?? new Set()).add(e.module));
    const found = cycles(graph).map((cycle) => `${cycle} (move what both need into a module of its own, or into the one the other already imports)`);
    expect(found).toEqual([]);
  });
});

describe(`the crates on the map (${DOC})`, () => {
  const manifest = (dir: string) => readFileSync(join(ROOT, dir, 'Cargo.toml'), 'utf8');
  const members = [...manifest('.').matchAll(/"crates\/([\w-]+)"/g)].map((m) => m[1]!);
  const crateRank = new Map(MAP.flatMap((layer) => layer.crates.map((crate) => [crate, layer.rank] as const)));
  /** The crates of this workspace a crate depends on (path dependencies, of any kind). */
  const dependencies = (crate: string) => [...manifest(`crates/${crate}`).matchAll(/path\s*=\s*"\.\.\/([\w-]+)"/g)].map((m) => m[1]!);

  it('has every crate of the workspace on the map, and nothing else', () => {
    expect(members.length).toBeGreaterThan(2);
    expect([...crateRank.keys()].sort()).toEqual([...members].sort());
  });

  it('lets a crate depend only on the crates of the layers below it', () => {
    const wrong = members.flatMap((crate) =>
      dependencies(crate)
        .filter((on) => !(crateRank.get(on)! < crateRank.get(crate)!))
        .map((on) => `crates/${crate} depends on crates/${on}, which is not on a layer below it in ${DOC}`),
    );
    expect(wrong).toEqual([]);
    expect(dependencies('addon').sort()).toEqual(['engine', 'node-api']); // the map's addon joins the two
  });

  it('keeps Node out of the engine: no Node-API in its dependencies or its sources', () => {
    expect(manifest('crates/engine')).not.toMatch(/node-api|napi/);
    const rust = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? rust(join(dir, e.name)) : e.name.endsWith('.rs') ? [join(dir, e.name)] : []));
    const naming = rust(join(ROOT, 'crates/engine/src')).filter((file) => /\bnapi_|node_api/.test(readFileSync(file, 'utf8')));
    expect(naming.map((file) => relative(ROOT, file))).toEqual([]);
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

  it('names seven stages, in order', () => {
    expect(stages.map((s) => s.stage)).toEqual([1, 2, 3, 4, 5, 6, 7]);
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
        const close = new RegExp(`^ {${(m[1] ?? m[2])!.length}}}[,;)]*$`); // a method of an object literal ends with "},"
        const end = lines.findIndex((l, j) => j > i && close.test(l));
        return end - i + 1 > 60 ? [`${file}:${i + 1} ${line.trim()} (${end - i + 1} lines)`] : [];
      });
    });
    expect(long).toEqual([]);
  });
});
