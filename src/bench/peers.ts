import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DigestAlgorithm } from '../digest/algorithm.js';
import { ensureDataset, totalBytes, type Dataset } from './datasets.js';
import { median } from './statistics.js';
import { timedProcess, type Timing } from './methods.js';
import { warmPageCache } from './page-cache.js';

/**
 * A whole process hashing a data set, start to exit: `kernelseal digest`, or a tool a user
 * would pick instead. The files are the data set's, given to each tool in the same order.
 */
interface PeerTool {
  name: string;
  algorithm: DigestAlgorithm;
  /** The program and its arguments, and whether it reads the file paths from its standard input (NUL-separated). */
  command(files: string[], dir: string): { program: string; args: string[]; stdin?: true };
}

/** One whole-process timing: a tool on a data set, medians over the rounds. */
export interface PeerRow {
  dataset: string;
  algorithm: DigestAlgorithm;
  /** `kernelseal digest`, or the peer's name as the report prints it. */
  tool: string;
  bytes: number;
  files: number;
  seconds: number[];
  medianSeconds: number;
  /** The peer's median over kernelseal's on the same data set and algorithm: above 1, kernelseal is faster. */
  peerOverKernelseal: number;
  /** The CPU time of each run (the process and those it waited for), its median, and the same ratio of CPU times. */
  cpuSeconds: number[];
  medianCpuSeconds: number;
  peerCpuOverKernelseal: number;
}

const KERNELSEAL = 'kernelseal digest';
const CLI = fileURLToPath(new URL('../../bin/kernelseal.js', import.meta.url));

/** Python's hashlib on one thread, a file at a time, as the kernels reference hashes a variant. */
const HASHLIB = `
import hashlib, sys
for path in sys.stdin.buffer.read().split(b'\\0'):
    if path:
        with open(path, 'rb') as f:
            if hasattr(hashlib, 'file_digest'):
                hashlib.file_digest(f, sys.argv[1])
            else:
                h = hashlib.new(sys.argv[1])
                for chunk in iter(lambda: f.read(1 << 20), b''):
                    h.update(chunk)
`;

/** The tools measured, by algorithm, each only where installed (`kernelseal digest` always). */
function peerTools(): PeerTool[] {
  const cores = availableParallelism();
  const installed = (program: string, ...args: string[]) => spawnSync(program, args, { stdio: 'ignore' }).status === 0;
  const tools: PeerTool[] = [];
  for (const algorithm of ['sha256', 'blake3'] as const) {
    tools.push({ name: KERNELSEAL, algorithm, command: (_, dir) => ({ program: process.execPath, args: [CLI, 'digest', dir, '--algorithm', algorithm, '--json'] }) });
  }
  if (installed('sha256sum', '--version') && installed('xargs', '--version')) {
    // The files dealt into one sha256sum per core (xargs -P), as many each.
    tools.push({
      name: `sha256sum x${cores} (xargs -P${cores})`,
      algorithm: 'sha256',
      command: (files) => ({ program: 'xargs', args: ['-0', '-P', String(cores), '-n', String(Math.max(1, Math.ceil(files.length / cores))), 'sha256sum'], stdin: true }),
    });
  }
  if (installed('python3', '-c', 'import hashlib')) {
    tools.push({ name: 'python hashlib, 1 thread', algorithm: 'sha256', command: () => ({ program: 'python3', args: ['-c', HASHLIB, 'sha256'], stdin: true }) });
  }
  if (installed('b3sum', '--version') && installed('xargs', '--version')) {
    // One b3sum for every file, as it is used: each file mapped and spread over every core.
    tools.push({ name: 'b3sum', algorithm: 'blake3', command: () => ({ program: 'xargs', args: ['-0', 'b3sum'], stdin: true }) });
  }
  return tools;
}

/**
 * Each data set hashed by whole processes in interleaved rounds, the order of the tools
 * rotating, each data set read untimed right before each run: `kernelseal digest` (Node's start
 * included) against sha256sum on every core, Python's hashlib on one thread, and b3sum.
 */
export async function measurePeers(datasets: Dataset[], dataDir: string, rounds: number, log: (line: string) => void): Promise<PeerRow[]> {
  const tools = peerTools();
  log(`whole processes: ${[...new Set(tools.map((tool) => tool.name))].join(', ')}`);
  const samples = new Map<string, Timing[]>();
  const key = (dataset: Dataset, tool: PeerTool) => `${dataset.name}\u0000${tool.algorithm}\u0000${tool.name}`;
  const dirs = new Map(datasets.map((dataset) => [dataset, ensureDataset(dataDir, dataset)]));
  for (let round = 0; round < rounds; round++) {
    log(`whole processes, round ${round + 1}/${rounds}`);
    for (const dataset of datasets) {
      const dir = dirs.get(dataset)!;
      const files = dataset.files.map((file) => join(dir, file.path));
      for (let i = 0; i < tools.length; i++) {
        const tool = tools[(i + round) % tools.length]!;
        warmPageCache(dir, dataset);
        const { program, args, stdin } = tool.command(files, dir);
        samples.set(key(dataset, tool), [...(samples.get(key(dataset, tool)) ?? []), await timedProcess(program, args, stdin ? { input: files.join('\0') } : {})]);
      }
    }
  }
  const rows: PeerRow[] = [];
  for (const dataset of datasets) {
    for (const tool of tools) {
      const timings = samples.get(key(dataset, tool))!;
      const ours = samples.get(key(dataset, tools.find((t) => t.name === KERNELSEAL && t.algorithm === tool.algorithm)!))!;
      const [seconds, cpuSeconds] = [timings.map((t) => t.seconds), timings.map((t) => t.cpuSeconds)];
      const [medianSeconds, medianCpuSeconds] = [median(seconds), median(cpuSeconds)];
      rows.push({
        dataset: dataset.name,
        algorithm: tool.algorithm,
        tool: tool.name,
        bytes: totalBytes(dataset),
        files: dataset.files.length,
        seconds,
        medianSeconds,
        peerOverKernelseal: medianSeconds / median(ours.map((t) => t.seconds)),
        cpuSeconds,
        medianCpuSeconds,
        peerCpuOverKernelseal: medianCpuSeconds / median(ours.map((t) => t.cpuSeconds)),
      });
    }
  }
  return rows;
}
