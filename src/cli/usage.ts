import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes scripts can rely on. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line is wrong: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * An option as util.parseArgs takes it, or a string option cosign declares as a boolean
 * (`aloneIsTrue`): given alone it means true, as in cosign (`--tlog-upload`); `--flag=false`
 * and `--flag false` still give its value.
 */
type Option = NonNullable<ParseArgsConfig['options']>[string] & { aloneIsTrue?: true };
type Options = Record<string, Option>;

/** util.parseArgs, strict, with its errors turned into UsageErrors. */
export function parseCommandLine<O extends Options>(args: string[], options: O) {
  const aloneIsTrue = Object.keys(options).filter((name) => options[name]!.aloneIsTrue);
  const plain = Object.fromEntries(Object.entries(options).map(([name, { aloneIsTrue: _, ...option }]) => [name, option])) as O;
  try {
    return parseArgs({ args: givenAloneAsTrue(args, aloneIsTrue), options: plain, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/**
 * Go's spellings of a boolean (strconv.ParseBool, what cosign's flags take): after a flag given
 * alone, one of these is its value, so that all but `true` and `false` are refused as values
 * rather than read as a positional after a flag that then means true.
 */
const BOOLEAN_SPELLINGS: ReadonlySet<string> = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * `--flag` for each of `names` given alone (no `=value`, and not followed by a boolean) as
 * `--flag=true`; nothing after `--` is touched.
 */
function givenAloneAsTrue(args: string[], names: readonly string[]): string[] {
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  return args.map((arg, index) => {
    const alone = index < end && names.some((name) => arg === `--${name}`);
    return alone && !BOOLEAN_SPELLINGS.has(args[index + 1] ?? '') ? `${arg}=true` : arg;
  });
}

/**
 * A command of the CLI. `help` is printed for --help; `run` returns the exit code. Its one-line
 * summary lives in main.ts's list, which the main help prints without importing any command.
 */
export interface Command {
  name: string;
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
