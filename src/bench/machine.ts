import { readFileSync } from 'node:fs';
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
}

/** The environment variable value that hides the SHA extensions from OpenSSL (bit 29 of the second word). */
export const MASK_SHA_EXTENSIONS = ':~0x20000000';

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
  };
}

/** One line for a report's head. */
export function machineLine(machine: BenchMachine): string {
  const has = Object.entries(machine.flags)
    .map(([name, present]) => `${name.toUpperCase()} ${present ? 'yes' : 'no'}`)
    .join(', ');
  return `${machine.cpu} (${has}; SHA extensions ${machine.shaExtensions}), ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}; native ${machine.sha2}`;
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
