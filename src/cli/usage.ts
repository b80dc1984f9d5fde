import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes scripts can rely on. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line is wrong: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** util.parseArgs, strict, with its errors turned into UsageErrors. */
export function parseCommandLine<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** A command of the CLI. `help` is printed for --help; `run` returns the exit code. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

/**
 * Another tool's flag names, rewritten to ours before parsing (`--public-key F` and
 * `--public-key=F` both become `--key`); nothing after `--` is touched. Only names that mean
 * exactly the same go here.
 */
export function renameFlags(args: string[], aliases: Readonly<Record<string, string>>): string[] {
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  return args.map((arg, index) => {
    if (index >= end || !arg.startsWith('--')) return arg;
    const [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const ours = aliases[name];
    return ours === undefined ? arg : `--${ours}${value === undefined ? '' : `=${value}`}`;
  });
}

/** "30", "30s", "2m", "1h" (cosign's --timeout) as milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match?.[2] ?? 's']!;
  const ms = match ? Number(match[1]) * scale : NaN;
  if (!(ms > 0 && ms <= 24 * 3_600_000)) throw new UsageError(`${flag} must be a duration such as 30s, 2m or 1h (got ${JSON.stringify(text)})`);
  return ms;
}
