import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from './closest.js';

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
/** What util.parseArgs makes of options `O`: their values typed, and the positionals. */
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** `--help` or `-h` was given as an option (never as an option's value): print the help, exit 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
}

/**
 * The flags of this process's command line that were typed as another tool's name for one of
 * ours (`--trust-config` for `--trusted-root`), ours -> typed: messages name the flag the user
 * typed (see {@link inUserSpelling}). One command runs per process.
 */
const typedAliases = new Map<string, string>();

/**
 * util.parseArgs, strict, with its errors turned into UsageErrors (an unknown option gets a
 * "did you mean"). Everything is parsed before `--help` counts, so `-h` given as an option's
 * value (`--bundle -h`) is that value, or a usage error, never a request for help.
 *
 * `aliases` maps another tool's flag names to ours when they mean exactly the same
 * (`public-key` -> `key`): either spelling may be given, not both. A command with `--json` also
 * takes gh's `--format json`.
 */
export function parseCommandLine<O extends Options>(args: string[], options: O, aliases: Readonly<Record<string, string>> = {}): Pick<Parsed<O>, 'values' | 'positionals'> {
  const usable = Object.entries(aliases).filter(([alias, ours]) => options[ours] !== undefined && options[alias] === undefined);
  const table: Options = { ...options };
  for (const [alias, ours] of usable) {
    const { default: _, short: __, ...option } = options[ours]!;
    table[alias] = option;
  }
  table.help = { type: 'boolean', short: 'h' };
  if (options.json !== undefined) table.format = { type: 'string' };
  const aloneIsTrue = Object.keys(table).filter((name) => table[name]!.aloneIsTrue);
  const plain = Object.fromEntries(Object.entries(table).map(([name, { aloneIsTrue: _, ...option }]) => [name, option]));
  let parsed;
  try {
    parsed = parseArgs({ args: givenAloneAsTrue(args, aloneIsTrue), options: plain, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    // parseArgs's complaints about the command line (TypeErrors, coded ERR_PARSE_ARGS_*); any
    // other error is a bug of ours, such as an option table it cannot take, and propagates.
    if (!String((error as { code?: unknown })?.code).startsWith('ERR_PARSE_ARGS_')) throw error;
    throw usageErrorOf(error as Error & { code?: string }, Object.keys(table), args);
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help === true) throw new HelpRequested();
  delete values.help;
  if (values.format !== undefined) {
    if (values.format !== 'json') throw new UsageError(`--format takes json, the only other format (got ${JSON.stringify(values.format)})`);
    values.json = true;
    delete values.format;
  }
  // Each of our options as the user spelled it, to merge the aliases and name them in messages.
  const spelled = new Map<string, Set<string>>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || token.name === 'help' || token.name === 'format') continue;
    const ours = aliases[token.name] !== undefined && options[token.name] === undefined ? aliases[token.name]! : token.name;
    spelled.set(ours, (spelled.get(ours) ?? new Set()).add(token.rawName));
  }
  typedAliases.clear();
  for (const [alias, ours] of usable) {
    if (values[alias] === undefined) continue;
    const names = [...spelled.get(ours)!];
    if (options[ours]!.multiple) {
      values[ours] = [...((values[ours] as unknown[] | undefined) ?? []), ...(values[alias] as unknown[])];
    } else {
      if (names.length > 1) throw new UsageError(`${names.join(' and ')} are the same option: give one`);
      values[ours] = values[alias];
    }
    delete values[alias];
    if (names.length === 1) typedAliases.set(`--${ours}`, names[0]!);
  }
  return { values: values as Parsed<O>['values'], positionals: parsed.positionals };
}

/** `message` with every flag we renamed from another tool's spelling put back as the user typed it. */
export function inUserSpelling(message: string): string {
  let out = message;
  for (const [ours, typed] of typedAliases) out = out.replace(new RegExp(`${ours}(?![\\w-])`, 'g'), typed);
  return out;
}

/**
 * util.parseArgs's complaint in our words, naming the flag as typed: an unknown option gets the
 * nearest known one; an option whose value looks like an option (`--bundle -h`) says how to give
 * such a value.
 */
function usageErrorOf(error: Error & { code?: string }, names: string[], args: readonly string[]): UsageError {
  const unknown = error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '([^']*)'/.exec(error.message)?.[1] : undefined;
  if (unknown !== undefined) {
    const guess = unknown.startsWith('--') ? closest(unknown, names.filter((name) => name.length > 1).map((name) => `--${name}`)) : undefined;
    return new UsageError(`unknown option '${unknown}'${guess ? `: did you mean '${guess}'?` : ''}`);
  }
  const ambiguous = /^Option '([^']*)' argument is ambiguous/.exec(error.message)?.[1];
  // The occurrence followed by something that looks like an option (the flag may come twice).
  const next = ambiguous === undefined ? undefined : args.find((arg, i) => i > 0 && args[i - 1] === ambiguous && arg.startsWith('-'));
  if (ambiguous !== undefined && next !== undefined) {
    return new UsageError(`${ambiguous} needs a value, and ${JSON.stringify(next)} is an option: to give it as the value, write ${ambiguous}${ambiguous.startsWith('--') ? '=' : ''}${next}`);
  }
  const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(error.message)?.[1];
  if (missing !== undefined) return new UsageError(`${args.findLast((arg) => arg.startsWith('-')) ?? missing} needs a value`);
  return new UsageError(error.message.replace(/\. To specify a positional argument.*$/s, ''));
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

/** A subcommand (`publishers show`, ...): its command's help lists it with its summary. */
export interface Subcommand extends Command {
  summary: string;
}

/** "30", "30s", "2m", "1h" (cosign's --timeout) as milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match?.[2] ?? 's']!;
  const ms = match ? Number(match[1]) * scale : NaN;
  if (!(ms > 0 && ms <= 24 * 3_600_000)) throw new UsageError(`${flag} must be a duration such as 30s, 2m or 1h (got ${JSON.stringify(text)})`);
  return ms;
}
