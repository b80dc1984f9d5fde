import { execFileSync } from 'node:child_process';
import { describeMachine, PEAK_RSS_MIB, type BenchMachine } from './machine.js';
import type { DigestAlgorithm } from '../digest/algorithm.js';
import { createNativeBackend } from '../hashing/native/backend.js';
import { pureBackend } from '../hashing/pure/backend.js';
import { computeLimit } from './compute-limit.js';
import { ensureDataset, totalBytes, type Dataset } from './datasets.js';
import { dropFromPageCache, warmPageCache } from './page-cache.js';
import { backendMethod, modelMethod, nativeOneThreadMethod, nativeReadMethod, naiveStreamMethod, type Method, type Timing } from './methods.js';
import { median } from './statistics.js';
import { measureVerifyOverhead, type VerifyOverhead } from './verify-overhead.js';
import { benchSigner } from './bench-signer.js';
import { measureHubLoads, type HubLoadRow } from './hub-load.js';
import { measureListOpen, type ListOpenRow } from './list-open.js';
import { measureManyFiles, type ManyFilesRow } from './many-files.js';
import { measurePeers, type PeerRow } from './peers.js';
import { measureReadFloor, readFloorUnavailable, type ReadFloorRow } from './read-floor.js';
import { measureStartUp, type StartUpRow } from './start-up.js';

export interface BenchOptions {
  rounds: number;
  datasets: Dataset[];
  /** Data sets whose peak memory is measured (in a fresh process per backend). */
  rssDatasets: Dataset[];
  algorithms: DigestAlgorithm[];
  dataDir: string;
  /** Drop each data set from the page cache before every run (cold-cache reading). */
  cold: boolean;
  /** Data sets served as a kernel by a local Hub: first load against a plain download, second load. */
  hubDatasets: Dataset[];
  /** Data sets verified (verifyVariant) against hashing alone, time and peak memory. */
  verifyDatasets: Dataset[];
  /** Data sets hashed by whole processes: `kernelseal digest` against the tools users would pick instead. */
  peerDatasets: Dataset[];
  /** Data sets whose read floor is measured (SHA-2 only; needs a clone and cargo). */
  floorDatasets: Dataset[];
  /** Whether to time the CLI's start (`--version`, the example's verify) against `node -e 0`. */
  startUp: boolean;
  log: (line: string) => void;
}

/** One measured cell: a method hashing a data set with an algorithm, over the rounds. */
export interface BenchRow {
  dataset: string;
  algorithm: DigestAlgorithm;
  method: string;
  bytes: number;
  seconds: number[];
  medianSeconds: number;
  gbPerSecond: number;
  /** The CPU time of each run (every thread of the process that hashed), and its median. */
  cpuSeconds: number[];
  medianCpuSeconds: number;
}

/** Peak resident memory of a fresh process hashing one data set once. */
export interface RssRow {
  dataset: string;
  backend: 'native' | 'pure';
  algorithm: DigestAlgorithm;
  bytes: number;
  files: number;
  peakRssMiB: number;
}

export interface BenchLimits {
  /** OpenSSL on every core, in memory, GB/s. */
  machine: Partial<Record<DigestAlgorithm, number>>;
  /** OpenSSL on one core, in memory, GB/s. */
  core: Partial<Record<DigestAlgorithm, number>>;
}

export interface BenchReport {
  machine: BenchMachine;
  rounds: number;
  cold: boolean;
  limits: BenchLimits;
  rows: BenchRow[];
  rss: RssRow[];
  /** verifyVariant against hashVariant on the kernel-variant data set, when measured. */
  verifyOverhead?: VerifyOverhead;
  hubLoads: HubLoadRow[];
  /** The trusted publisher list stage, measured beside the loads (src/bench/list-open.ts). */
  listOpen?: ListOpenRow;
  manyFiles: ManyFilesRow[];
  startUp: StartUpRow[];
  peers: PeerRow[];
  readFloor: ReadFloorRow[];
  /** Why the read floor was not measured, when it was asked for and could not be. */
  readFloorUnavailable?: string;
}

/**
 * Builds the data sets, then measures every method on every data set and algorithm in
 * interleaved rounds (the method order rotates each round), so that the machine's noise falls
 * on every method alike; the compute limits are measured in each round too. Medians.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const native = createNativeBackend();
  const methods: Method[] = [
    backendMethod(native),
    backendMethod(pureBackend),
    naiveStreamMethod,
    nativeOneThreadMethod,
    nativeReadMethod,
    modelMethod(native, 'files'),
    modelMethod(native, 'shards'),
  ];
  const dirs = new Map<Dataset, string>();
  for (const dataset of options.datasets) {
    options.log(`data set ${dataset.name}: ${dataset.description} (${(totalBytes(dataset) / 1e9).toFixed(2)} GB)`);
    const dir = ensureDataset(options.dataDir, dataset);
    dirs.set(dataset, dir);
    if (!options.cold) await native.hashVariant('blake3', dir); // bring it into the page cache
  }

  const samples = new Map<string, Timing[]>();
  const limitSamples = { machine: new Map<DigestAlgorithm, number[]>(), core: new Map<DigestAlgorithm, number[]>() };
  const push = (map: Map<DigestAlgorithm, number[]>, algorithm: DigestAlgorithm, value: number) => map.set(algorithm, [...(map.get(algorithm) ?? []), value]);

  for (let round = 0; round < options.rounds; round++) {
    options.log(`round ${round + 1}/${options.rounds}`);
    for (const algorithm of options.algorithms) {
      if (algorithm !== 'blake3') {
        push(limitSamples.machine, algorithm, (await computeLimit(algorithm)) / 1e9);
        push(limitSamples.core, algorithm, (await computeLimit(algorithm, 1)) / 1e9);
      }
      for (const dataset of options.datasets) {
        const dir = dirs.get(dataset)!;
        const order = methods.map((_, i) => methods[(i + round) % methods.length]!);
        for (const method of order) {
          if (!method.supports(algorithm, dataset)) continue;
          if (options.cold) dropFromPageCache(dir, dataset);
          else warmPageCache(dir, dataset);
          const timing = await method.run(algorithm, dir, dataset);
          const key = `${dataset.name}\u0000${algorithm}\u0000${method.name}`;
          samples.set(key, [...(samples.get(key) ?? []), timing]);
        }
      }
    }
  }

  const rows: BenchRow[] = [...samples].map(([key, timings]) => {
    const [dataset, algorithm, method] = key.split('\u0000') as [string, DigestAlgorithm, string];
    const bytes = totalBytes(options.datasets.find((d) => d.name === dataset)!);
    const seconds = timings.map((timing) => timing.seconds);
    const cpuSeconds = timings.map((timing) => timing.cpuSeconds);
    const medianSeconds = median(seconds);
    return { dataset, algorithm, method, bytes, seconds, medianSeconds, gbPerSecond: bytes / medianSeconds / 1e9, cpuSeconds, medianCpuSeconds: median(cpuSeconds) };
  });
  const rss: RssRow[] = [];
  for (const dataset of options.rssDatasets) {
    options.log(`peak memory: ${dataset.name}`);
    const dir = ensureDataset(options.dataDir, dataset);
    for (const backend of ['native', 'pure'] as const) {
      rss.push({ dataset: dataset.name, backend, algorithm: 'sha256', bytes: totalBytes(dataset), files: dataset.files.length, peakRssMiB: peakRssMiB(backend, dir) });
    }
  }
  const kernel = options.datasets.find((d) => d.name === 'kernel-variant');
  const verifyOverhead = kernel && !options.cold ? await measureVerifyOverhead(dirs.get(kernel)!, native, options.rounds) : undefined;
  const hubLoads: HubLoadRow[] = [];
  const manyFiles: ManyFilesRow[] = [];
  const listOpen = options.hubDatasets.length > 0 ? await measureListOpen(options.dataDir, options.rounds, options.log) : undefined;
  if (options.hubDatasets.length > 0 || options.verifyDatasets.length > 0) {
    const signer = benchSigner();
    hubLoads.push(...(await measureHubLoads(options.hubDatasets, options.dataDir, options.rounds, signer, options.log)));
    for (const dataset of options.verifyDatasets) manyFiles.push(await measureManyFiles(dataset, options.dataDir, options.rounds, signer, options.log));
  }
  const startUp = options.startUp ? await measureStartUp(options.rounds * 5, options.log) : [];
  const peers = options.peerDatasets.length > 0 ? await measurePeers(options.peerDatasets, options.dataDir, options.rounds, options.log) : [];
  const unavailable = options.floorDatasets.length > 0 ? readFloorUnavailable() : undefined;
  const readFloor =
    options.floorDatasets.length > 0 && !unavailable ? measureReadFloor(options.floorDatasets, options.algorithms, options.dataDir, options.rounds, options.log) : [];
  const medians = (map: Map<DigestAlgorithm, number[]>) => Object.fromEntries([...map].map(([algorithm, values]) => [algorithm, median(values)]));
  return {
    machine: describeMachine(native.details),
    rounds: options.rounds,
    cold: options.cold,
    limits: { machine: medians(limitSamples.machine), core: medians(limitSamples.core) },
    rows,
    rss,
    verifyOverhead,
    hubLoads,
    ...(listOpen ? { listOpen } : {}),
    manyFiles,
    startUp,
    peers,
    readFloor,
    ...(unavailable ? { readFloorUnavailable: unavailable } : {}),
  };
}

/** Hashes `dir` once with `backend` in a fresh Node process and returns its peak RSS in MiB. */
function peakRssMiB(backend: 'native' | 'pure', dir: string): number {
  const script = `
    const m = await import(${JSON.stringify(new URL('../index.js', import.meta.url).href)});
    const backend = ${backend === 'native' ? 'm.createNativeBackend()' : 'm.pureBackend'};
    await backend.hashVariant('sha256', ${JSON.stringify(dir)});
    console.log(${PEAK_RSS_MIB});`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
}
