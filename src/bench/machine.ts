import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, cpus, totalmem } from 'node:os';

/** What a figure must be read against: the CPU, its hashing instructions, where SHA-2 came from. */
export interface BenchMachine {
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  /** The native engine's SHA-2 and threads, e.g. "sha2: openssl (process), 2 threads". */
  sha2: string;
  /** The CPU's SHA extensions, AVX2 and AVX-512 (Linux /proc/cpuinfo; empty elsewhere). */
  flags: { sha: boolean; avx2: boolean; avx512: boolean };
  /** OPENSSL_ia32cap as set for this run: ":~0x20000000" masks the SHA extensions from OpenSSL. */
  opensslCap: string | undefined;
  /** Whether OpenSSL may use the SHA extensions in this run. */
  shaExtensions: 'on' | 'masked' | 'absent';
  /**
   * A kernel scheme that pages out memory left idle, page cache included, when one runs (Linux
   * DAMON `pageout`, as on this bench's guest): then a "warm" data set stays warm only while it
   * is read, and the bench reads each one right before timing it (src/bench/run-bench.ts).
   */
  pageCacheReclaim: string | undefined;
}

/** The environment variable value that hides the SHA extensions from OpenSSL (bit 29 of the second word). */
export const MASK_SHA_EXTENSIONS = ':~0x20000000';

/**
 * JavaScript for the script of a fresh child process: its peak resident memory in MiB. VmHWM
 * where /proc/self/status has it (Linux), since getrusage's maxrss of a forked child starts at
 * its parent's; elsewhere maxrss, an upper bound.
 */
export const PEAK_RSS_MIB = `(() => {
  try { return Number(/VmHWM:\\s+(\\d+)/.exec(process.getBuiltinModule('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024; }
  catch { return process.resourceUsage().maxRSS / 1024; }
})()`;

export function describeMachine(sha2: string): BenchMachine {
  const flags = cpuFlags();
  const opensslCap = process.env.OPENSSL_ia32cap;
  const masked = shaMasked(opensslCap);
  return {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    sha2,
    flags: { sha: flags.has('sha_ni'), avx2: flags.has('avx2'), avx512: flags.has('avx512f') },
    opensslCap,
    shaExtensions: !flags.has('sha_ni') ? 'absent' : masked ? 'masked' : 'on',
    pageCacheReclaim: damonPageout(),
  };
}

/** One line for a report's head. */
export function machineLine(machine: BenchMachine): string {
  const has = Object.entries(machine.flags)
    .map(([name, present]) => `${name.toUpperCase()} ${present ? 'yes' : 'no'}`)
    .join(', ');
  const reclaim = machine.pageCacheReclaim ? `; page cache reclaimed by ${machine.pageCacheReclaim}` : '';
  return `${machine.cpu} (${has}; SHA extensions ${machine.shaExtensions}), ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}; native ${machine.sha2}${reclaim}`;
}

/** DAMON's sysfs interface (Documentation/admin-guide/mm/damon/usage.rst in the Linux tree). */
const DAMON = '/sys/kernel/mm/damon/admin/kdamonds';

/**
 * "DAMON pageout of memory idle >= N s" when a running kdamond has a pageout scheme (the idle
 * time: the scheme's minimum age in aggregation intervals), else undefined.
 */
export function damonPageout(root = DAMON): string | undefined {
  const read = (...path: string[]) => readFileSync(join(root, ...path), 'utf8').trim();
  const entries = (...path: string[]) => readdirSync(join(root, ...path)).filter((name) => /^\d+$/.test(name));
  try {
    for (const kdamond of entries()) {
      if (read(kdamond, 'state') !== 'on') continue;
      for (const context of entries(kdamond, 'contexts')) {
        const aggregationUs = Number(read(kdamond, 'contexts', context, 'monitoring_attrs', 'intervals', 'aggr_us'));
        for (const scheme of entries(kdamond, 'contexts', context, 'schemes')) {
          const at = [kdamond, 'contexts', context, 'schemes', scheme];
          if (read(...at, 'action') !== 'pageout') continue;
          const idleSeconds = (Number(read(...at, 'access_pattern', 'age', 'min')) * aggregationUs) / 1e6;
          return `DAMON pageout of memory idle >= ${idleSeconds} s`;
        }
      }
    }
  } catch {
    // No DAMON, or not readable: nothing known.
  }
  return undefined;
}

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set(line?.split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** Whether OPENSSL_ia32cap (`[first]:[second]`, `~` clearing bits) clears the SHA bit (29) of its second word. */
function shaMasked(cap: string | undefined): boolean {
  const second = cap?.split(':')[1]?.trim();
  if (!second?.startsWith('~')) return false;
  const value = Number(second.slice(1));
  return Number.isFinite(value) && (BigInt(Math.trunc(value)) & 0x20000000n) !== 0n;
}
