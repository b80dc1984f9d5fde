import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DigestAlgorithm } from '../digest/algorithm.js';
import { ensureDataset, type Dataset } from './datasets.js';

/**
 * The engine against the cheapest way of hashing the same files on this machine, measured in one
 * process by the engine's `read_floor` example (crates/engine/examples/read_floor.rs), medians of
 * interleaved rounds, GB/s: the in-memory limit, a plain read loop (open, fstat, reads hashed as
 * they come, fstat, close; no walk, no checks), and `hash_variant`.
 */
export interface ReadFloorRow {
  dataset: string;
  algorithm: DigestAlgorithm;
  limit: number;
  floor: number;
  engine: number;
  /** engine / floor: the target is >= 0.95. */
  engineOverFloor: number;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = `${ROOT}target/release/examples/read_floor`;

/**
 * Why the read floor cannot be measured here (an installed package has no crates; a clone
 * needs cargo), or undefined when it can: the example is then built (cargo, release).
 */
export function readFloorUnavailable(): string | undefined {
  if (!existsSync(`${ROOT}crates/engine/examples/read_floor.rs`)) return 'not measured: it needs a clone of kernelseal (the engine crate)';
  if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) return 'not measured: cargo is not installed';
  return undefined;
}

/** Builds the example once, then measures each data set and algorithm, `rounds` rounds each. */
export function measureReadFloor(datasets: Dataset[], algorithms: DigestAlgorithm[], dataDir: string, rounds: number, log: (line: string) => void): ReadFloorRow[] {
  log('read floor: building the read_floor example (cargo, release)');
  execFileSync(process.execPath, [`${ROOT}scripts/cargo.mjs`, 'build', '--release', '--quiet', '-p', 'kernelseal-engine', '--example', 'read_floor'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const rows: ReadFloorRow[] = [];
  for (const dataset of datasets) {
    const dir = ensureDataset(dataDir, dataset);
    for (const algorithm of algorithms.filter((a) => a === 'sha256' || a === 'sha512')) {
      log(`read floor: ${dataset.name} ${algorithm}`);
      const out = execFileSync(EXAMPLE, [dir, algorithm, String(rounds)], { encoding: 'utf8' });
      const rate = (name: string) => {
        const match = new RegExp(`^${name}\\s+(\\d+\\.\\d+) GB/s`, 'm').exec(out);
        if (!match) throw new Error(`bench: read_floor printed no ${name} rate:\n${out}`);
        return Number(match[1]);
      };
      const [limit, floor, engine] = [rate('limit'), rate('floor'), rate('engine')];
      rows.push({ dataset: dataset.name, algorithm, limit, floor, engine, engineOverFloor: engine / floor });
    }
  }
  return rows;
}
