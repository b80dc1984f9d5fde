import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runPlain, timedProcess } from './methods.js';
import { median } from './statistics.js';

/** How long a command takes from start to exit, against Node doing nothing (`node -e 0`). */
export interface StartUpRow {
  name: string;
  /** The command line, as a user types it. */
  command: string;
  medianMs: number;
  /** medianMs over `node -e 0`'s: the targets are <= 2 for --version, <= 5 for verify. */
  overNode: number;
  /** The median CPU time (every thread), and its ratio to `node -e 0`'s. */
  medianCpuMs: number;
  cpuOverNode: number;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = `${ROOT}bin/kernelseal.js`;
/** `npm run example`'s command: the bundled example kernel, verified offline. */
const EXAMPLE = ['verify', 'examples/relu', '--offline', '--trusted-root', 'examples/relu/trusted_root.json', '--policy', 'examples/relu/policy.json'];
const NO_COMPILE_CACHE = { NODE_DISABLE_COMPILE_CACHE: '1' };

interface StartUpCase {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts `node -e 0`, `kernelseal --version` and the example's `kernelseal verify` (in a clone:
 * the example is not in the package), each with Node's compile cache and without it, in
 * interleaved rounds of `runs` runs each (the order rotating); medians.
 */
export async function measureStartUp(runs: number, log: (line: string) => void): Promise<StartUpRow[]> {
  const cases: StartUpCase[] = [
    { name: 'node -e 0', args: ['-e', '0'] },
    { name: 'kernelseal --version', args: [CLI, '--version'] },
    { name: 'kernelseal --version, no compile cache', args: [CLI, '--version'], env: NO_COMPILE_CACHE },
  ];
  if (existsSync(`${ROOT}examples/relu`)) {
    cases.push(
      { name: 'kernelseal verify (the example, offline)', args: [CLI, ...EXAMPLE] },
      { name: 'kernelseal verify (the example), no compile cache', args: [CLI, ...EXAMPLE], env: NO_COMPILE_CACHE },
    );
  }
  log(`start-up: ${cases.length} commands, ${runs} runs each`);
  // One run of each first, untimed: the compile cache is written, the files are in the page cache.
  for (const { args, env } of cases) await runPlain(process.execPath, args, { env, cwd: ROOT });
  // Each run twice: timed alone, then under a shell that reports its CPU time (and whose own
  // start would be in the first figure).
  const samples = cases.map(() => ({ ms: [] as number[], cpuMs: [] as number[] }));
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < cases.length; i++) {
      const at = (i + run) % cases.length;
      const { args, env } = cases[at]!;
      samples[at]!.ms.push((await runPlain(process.execPath, args, { env, cwd: ROOT })) * 1000);
      samples[at]!.cpuMs.push((await timedProcess(process.execPath, args, { env, cwd: ROOT })).cpuSeconds * 1000);
    }
  }
  const ms = (i: number) => median(samples[i]!.ms);
  const cpuMs = (i: number) => median(samples[i]!.cpuMs);
  return cases.map(({ name, args }, i) => {
    const command = name === 'node -e 0' ? name : `kernelseal ${args.slice(1).join(' ')}`;
    return { name, command, medianMs: ms(i), overNode: ms(i) / ms(0), medianCpuMs: cpuMs(i), cpuOverNode: cpuMs(i) / cpuMs(0) };
  });
}
