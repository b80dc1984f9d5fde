import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isDigestAlgorithm, type DigestAlgorithm } from '../digest/algorithm.js';

/** What the bench measures by default: the kernels algorithms and BLAKE3 (blake2b on request). */
const BENCH_ALGORITHMS: DigestAlgorithm[] = ['sha256', 'sha512', 'blake3'];
import { datasetSpecs } from '../bench/datasets.js';
import { renderSvg, renderTable } from '../bench/report.js';
import { runBench } from '../bench/run-bench.js';
import { EXIT_OK, UsageError, parseCommandLine, type Command } from './usage.js';

const DEFAULT_DATASETS = ['1x1GiB', '64x16MiB', '1000x64KiB', 'kernel-variant'];

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure digest throughput: native, pure, a naive stream, against the compute limit',
  help: `Usage: kernelseal bench [--rounds N] [--datasets a,b] [--algorithms a,b] [--rss-datasets a,b] [--data DIR] [--cold] [--json] [--svg FILE]

Builds its data sets once (random content, under --data), then hashes each with every method
in interleaved rounds, so that the machine's noise falls on every method alike, and reports
medians in decimal GB/s, ratios to the compute limit, and peak resident memory (each backend
hashing a data set once in a fresh process):
  native            the Rust engine behind Node-API (all cores)
  pure              the TypeScript backend (node:crypto, blake3-wasm) on worker threads
  naive-stream      createReadStream + createHash, one file at a time
  native-1-thread   the Rust engine on one thread (blake3, one file: what all cores gain)
  compute limit     OpenSSL hashing memory on every core, and on one core (sha256, sha512)

Options:
      --rounds N          rounds (default 5)
      --datasets LIST     of ${datasetSpecs().map((d) => d.name).join(', ')}
                          (default ${DEFAULT_DATASETS.join(',')})
      --algorithms LIST   of sha256, sha512, blake3, blake2b (default the first three)
      --data DIR          where the data sets live (default ~/.cache/kernelseal/bench)
      --rss-datasets LIST data sets whose peak memory is measured, each in a fresh
                          process (default 2GiB-variant; "none" to skip)
      --cold              drop each data set from the page cache before every run
      --json              print the report as JSON
      --svg FILE          also write a bar chart

Example:
  kernelseal bench --rounds 5 --svg bench.svg`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      rounds: { type: 'string', default: '5' },
      datasets: { type: 'string', default: DEFAULT_DATASETS.join(',') },
      algorithms: { type: 'string', default: BENCH_ALGORITHMS.join(',') },
      data: { type: 'string', default: join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kernelseal', 'bench') },
      'rss-datasets': { type: 'string', default: '2GiB-variant' },
      cold: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      svg: { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError('--rounds must be a positive integer');
    const known = datasetSpecs();
    const named = (list: string) =>
      list === 'none'
        ? []
        : list.split(',').map((name) => {
            const found = known.find((d) => d.name === name);
            if (!found) throw new UsageError(`unknown data set ${name} (known: ${known.map((d) => d.name).join(', ')})`);
            return found;
          });
    const datasets = named(values.datasets);
    const rssDatasets = named(values['rss-datasets']);
    const algorithms = values.algorithms.split(',').map((name) => {
      if (!isDigestAlgorithm(name)) throw new UsageError(`unknown algorithm ${name}`);
      return name;
    });
    const report = await runBench({ rounds, datasets, rssDatasets, algorithms, dataDir: values.data, cold: values.cold, log: (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderTable(report)}\n`);
    if (values.svg) writeFileSync(values.svg, renderSvg(report));
    return EXIT_OK;
  },
};
