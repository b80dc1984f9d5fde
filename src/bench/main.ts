import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DIGEST_ALGORITHMS, type DigestAlgorithm } from '../digest/algorithm.js';
import { createNativeBackend } from '../digest/native-backend.js';
import { pureBackend } from '../digest/pure-backend.js';
import { computeLimit } from './compute-limit.js';
import { datasetSpecs, ensureDataset, totalBytes, type Dataset } from './datasets.js';
import { backendMethod, naiveStreamMethod, type Method } from './methods.js';

const USAGE = `Usage: npm run bench -- [--rounds N] [--datasets a,b] [--algorithms sha256,sha512] [--data DIR] [--json]

Builds its data sets (once, under --data), then hashes each with every method in interleaved
rounds, so that the machine's noise falls on every method alike, and reports medians:
  native        the Rust engine behind Node-API
  pure          the TypeScript backend (node:crypto, blake3-wasm)
  naive-stream  createReadStream + createHash, one file at a time
  limit         OpenSSL on every core hashing memory (the compute limit; sha256, sha512)
Data sets: ${datasetSpecs().map((d) => d.name).join(', ')}`;

interface Row {
  dataset: string;
  algorithm: DigestAlgorithm;
  method: string;
  bytes: number;
  seconds: number[];
  medianSeconds: number;
  gbPerSecond: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      datasets: { type: 'string', default: '1x1GiB,64x16MiB' },
      algorithms: { type: 'string', default: 'sha256,sha512' },
      data: { type: 'string', default: fileURLToPath(new URL('../../.bench/data', import.meta.url)) },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const rounds = Number(values.rounds);
  const datasets = values.datasets.split(',').map((name) => {
    const found = datasetSpecs().find((d) => d.name === name);
    if (!found) throw new Error(`unknown data set ${name}; known: ${datasetSpecs().map((d) => d.name).join(', ')}`);
    return found;
  });
  const algorithms = values.algorithms.split(',') as DigestAlgorithm[];
  for (const algorithm of algorithms) {
    if (!DIGEST_ALGORITHMS.includes(algorithm)) throw new Error(`unknown algorithm ${algorithm}`);
  }
  const log = (text: string) => process.stderr.write(`${text}\n`);
  const methods: Method[] = [backendMethod(createNativeBackend()), backendMethod(pureBackend), naiveStreamMethod];

  const dirs = new Map<Dataset, string>();
  for (const dataset of datasets) {
    log(`data set ${dataset.name}: ${dataset.description} (${(totalBytes(dataset) / 1e9).toFixed(2)} GB)`);
    dirs.set(dataset, ensureDataset(values.data, dataset));
    await createNativeBackend().hashVariant('blake3', dirs.get(dataset)!); // warm the page cache
  }

  const samples = new Map<string, number[]>();
  const key = (dataset: string, algorithm: string, method: string) => `${dataset}\u0000${algorithm}\u0000${method}`;
  const record = (k: string, seconds: number) => samples.set(k, [...(samples.get(k) ?? []), seconds]);
  for (let round = 1; round <= rounds; round++) {
    log(`round ${round}/${rounds}`);
    for (const algorithm of algorithms) {
      if (algorithm !== 'blake3') {
        const rate = await computeLimit(algorithm);
        record(key('-', algorithm, 'limit'), 1e9 / rate); // seconds per GB
      }
      for (const dataset of datasets) {
        for (const method of methods) {
          if (!method.supports(algorithm)) continue;
          const started = performance.now();
          await method.run(algorithm, dirs.get(dataset)!, dataset);
          record(key(dataset.name, algorithm, method.name), (performance.now() - started) / 1000);
        }
      }
    }
  }

  const rows: Row[] = [...samples].map(([k, seconds]) => {
    const [dataset, algorithm, method] = k.split('\u0000') as [string, DigestAlgorithm, string];
    const bytes = dataset === '-' ? 1e9 : totalBytes(datasets.find((d) => d.name === dataset)!);
    const medianSeconds = median(seconds);
    return { dataset, algorithm, method, bytes, seconds, medianSeconds, gbPerSecond: bytes / medianSeconds / 1e9 };
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ rounds, machine: machineInfo(), rows }, null, 2)}\n`);
    return;
  }
  printTable(rows, rounds);
}

function machineInfo() {
  return { node: process.version, cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency };
}

function printTable(rows: Row[], rounds: number): void {
  const limit = (algorithm: string) => rows.find((r) => r.method === 'limit' && r.algorithm === algorithm)?.gbPerSecond;
  const lines = [`medians of ${rounds} interleaved rounds, decimal GB/s; "x limit" = ratio to OpenSSL on every core`];
  lines.push(['data set', 'algorithm', 'method', 'GB/s', 'x limit', 'x pure'].map((h, i) => h.padEnd(i < 3 ? 14 : 9)).join(''));
  for (const row of rows) {
    const pure = rows.find((r) => r.dataset === row.dataset && r.algorithm === row.algorithm && r.method === 'pure');
    const l = limit(row.algorithm);
    lines.push(
      [
        row.dataset.padEnd(14),
        row.algorithm.padEnd(14),
        row.method.padEnd(14),
        row.gbPerSecond.toFixed(3).padEnd(9),
        (l && row.method !== 'limit' ? (row.gbPerSecond / l).toFixed(2) : '').padEnd(9),
        (pure && row.method !== 'pure' ? (row.gbPerSecond / pure.gbPerSecond).toFixed(2) : '').padEnd(9),
      ].join(''),
    );
  }
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
