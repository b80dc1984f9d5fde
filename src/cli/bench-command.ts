import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { datasetSpecs, MASK_SHA_EXTENSIONS, runBench } from './library/bench.js';
import { renderSvg, type BenchReport } from './library/bench-report.js';
import { isDigestAlgorithm, type DigestAlgorithm } from './library/hashing.js';

/** What the bench measures by default: the kernels algorithms and BLAKE3 (blake2b on request). */
const BENCH_ALGORITHMS: DigestAlgorithm[] = ['sha256', 'sha512', 'blake3'];
import { OUTPUT_OPTIONS, Output } from './output.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';

const DEFAULT_DATASETS = ['1x1GiB', '64x16MiB', '1000x64KiB', 'kernel-variant'];
const DEFAULT_HUB = ['1x1GiB', '1000x64KiB'];
const DEFAULT_VERIFY = ['100000-files'];
const DEFAULT_PEERS = ['1000x64KiB', '32x16MiB', '1x1GiB'];
const DEFAULT_FLOOR = ['1000x64KiB', '64x16MiB', '1x1GiB'];

export const benchCommand: Command = {
  name: 'bench',
  help: `Usage: kernelseal bench [--rounds N] [--datasets a,b] [--algorithms a,b] [--rss-datasets a,b] [--hub a,b] [--verify a,b]
                       [--peers a,b] [--read-floor a,b] [--start-up on|none] [--data DIR] [--cold] [--json] [--svg FILE]

Builds its data sets once (random content, under --data), then hashes each with every method
in interleaved rounds, so that the machine's noise falls on every method alike, and reports
medians in decimal GB/s, ratios to the compute limit, and peak resident memory (each backend
hashing a data set once in a fresh process):
  native            the Rust engine behind Node-API (all cores)
  pure              the TypeScript backend (node:crypto, blake3-wasm) on worker threads
  naive-stream      createReadStream + createHash, one file at a time
  native-1-thread   the Rust engine on one thread (blake3, one file: what all cores gain)
  native-read       the Rust engine reading every file (KERNELSEAL_MMAP=0) where native maps
                    those of 4 MiB and more: what mapping gains on this machine
  compute limit     OpenSSL hashing memory on every core, and on one core (sha256, sha512)
Then whole processes, start to exit, on the same files: kernelseal digest against sha256sum
on every core (xargs -P), Python's hashlib on one thread and b3sum, where installed; the read
floor (in a clone, with cargo: the engine's read_floor example times a plain read loop, the
engine and the in-memory limit in one process, SHA-2); and the CLI's start (--version, the
example's verify, with and without Node's compile cache) against node -e 0.
Then, with variants signed by a key made for the run (no transparency log): getKernel from a local Hub (a
child process on 127.0.0.1) into an empty cache against a plain download of the same files
from the same server, and a second load from the cache (offline and online); and
verifyVariant of a variant of 100,000 tiny files against hashing it alone, time and peak
memory, each in a fresh process.

Options:
      --rounds N          rounds (default 5)
      --datasets LIST     of ${datasetSpecs().map((d) => d.name).join(', ')}
                          (default ${DEFAULT_DATASETS.join(',')})
      --algorithms LIST   of sha256, sha512, blake3, blake2b (default the first three)
      --data DIR          where the data sets live (default ~/.cache/kernelseal/bench)
      --rss-datasets LIST data sets whose peak memory is measured, each in a fresh
                          process (default 2GiB-variant; "none" to skip)
      --hub LIST          data sets served as a kernel by the local Hub
                          (default ${DEFAULT_HUB.join(',')}; "none" to skip)
      --verify LIST       data sets verified against hashing alone
                          (default ${DEFAULT_VERIFY.join(',')}; "none" to skip)
      --peers LIST        data sets hashed by whole processes against other tools
                          (default ${DEFAULT_PEERS.join(',')}; "none" to skip)
      --read-floor LIST   data sets whose read floor is measured
                          (default ${DEFAULT_FLOOR.join(',')}; "none" to skip)
      --start-up on|none  time the CLI's start (default on)
      --cold              drop each data set from the page cache before every run
      --json              print the report as JSON (docs/output.schema.json: the
                          report is each result's "report")
      --svg FILE          also write a bar chart
      --sha-modes on,masked
                          run the whole bench once per mode, each in a fresh process:
                          'on' lets OpenSSL use the CPU's SHA extensions, 'masked' hides
                          them (OPENSSL_ia32cap=${MASK_SHA_EXTENSIONS}), so that one run
                          shows fast and slow SHA-2 hardware (the SVG gets -on/-masked)

Examples:
  kernelseal bench --rounds 5 --svg bench.svg
  kernelseal bench --sha-modes on,masked --svg docs/bench.svg
  kernelseal bench --datasets none --rss-datasets none --hub none --verify none --read-floor none   (start-up and whole processes)
  kernelseal bench --datasets none --rss-datasets none --algorithms sha256 --verify none --peers none --read-floor none --start-up none --hub 1x1GiB`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      rounds: { type: 'string', default: '5' },
      datasets: { type: 'string', default: DEFAULT_DATASETS.join(',') },
      algorithms: { type: 'string', default: BENCH_ALGORITHMS.join(',') },
      data: { type: 'string', default: join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kernelseal', 'bench') },
      'rss-datasets': { type: 'string', default: '2GiB-variant' },
      hub: { type: 'string', default: DEFAULT_HUB.join(',') },
      verify: { type: 'string', default: DEFAULT_VERIFY.join(',') },
      peers: { type: 'string', default: DEFAULT_PEERS.join(',') },
      'read-floor': { type: 'string', default: DEFAULT_FLOOR.join(',') },
      'start-up': { type: 'string', default: 'on' },
      cold: { type: 'boolean', default: false },
      ...OUTPUT_OPTIONS,
      svg: { type: 'string' },
      'sha-modes': { type: 'string' },
    });
    if (values['sha-modes'] !== undefined) return benchEachShaMode(args, values['sha-modes'], new Output(this.name, values), values.svg);
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    if (values['start-up'] !== 'on' && values['start-up'] !== 'none') throw new UsageError('--start-up takes on or none');
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
    const report = await runBench({
      rounds,
      datasets,
      rssDatasets,
      hubDatasets: named(values.hub),
      verifyDatasets: named(values.verify),
      peerDatasets: named(values.peers),
      floorDatasets: named(values['read-floor']),
      startUp: values['start-up'] === 'on',
      algorithms,
      dataDir: values.data,
      cold: values.cold,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    if (values.svg) writeFileSync(values.svg, renderSvg(report));
    const output = new Output(this.name, values);
    output.add({ kind: 'bench', subject: 'bench', report });
    return output.finish();
  },
};

/**
 * The bench once per SHA mode, each in a child process (OpenSSL reads OPENSSL_ia32cap when it
 * starts), reports printed one after the other.
 */
async function benchEachShaMode(args: string[], modes: string, output: Output, svg: string | undefined): Promise<number> {
  const list = modes.split(',');
  if (list.length === 0 || list.some((mode) => mode !== 'on' && mode !== 'masked')) throw new UsageError('--sha-modes takes on, masked or both (on,masked)');
  const rest = withoutOption(withoutOption(args, '--sha-modes'), '--svg').filter((arg) => arg !== '--json');
  for (const mode of list) {
    const env = { ...process.env };
    if (mode === 'masked') env.OPENSSL_ia32cap = MASK_SHA_EXTENSIONS;
    else delete env.OPENSSL_ia32cap;
    const cli = fileURLToPath(new URL('../../bin/kernelseal.js', import.meta.url));
    const child = spawnSync(process.execPath, [cli, 'bench', ...rest, '--json'], { env, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
    if (child.status !== 0) throw new Error(`the bench with SHA extensions ${mode} failed (exit ${child.status ?? child.signal})`);
    const report = (JSON.parse(child.stdout.toString('utf8')) as { results: Array<{ report: BenchReport }> }).results[0]!.report;
    if (svg) writeFileSync(svg.replace(/(\.svg)?$/, `-${mode}.svg`), renderSvg(report));
    output.add({ kind: 'bench', subject: `SHA extensions ${mode}`, report });
  }
  return output.finish();
}

/** `args` without `--name value` / `--name=value`. */
function withoutOption(args: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) i += 1;
    else if (!args[i]!.startsWith(`${name}=`)) out.push(args[i]!);
  }
  return out;
}
