import { isOk, renderText, resultJSON, type CliResult } from './render-result.js';
import { EXIT_FAILURE, EXIT_OK } from './usage.js';

/**
 * The version of the JSON every command prints with --json (docs/output.schema.json): raised
 * when a field changes meaning or goes away, never when one is added.
 */
export const OUTPUT_SCHEMA_VERSION = 1;

/** The output options every command takes. */
export const OUTPUT_OPTIONS = {
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
} as const;

export const OUTPUT_HELP = `Output:
      --json, --format json         print one JSON document, on success and failure alike
                                    (docs/output.schema.json in the package's repository)
  -q, --quiet                       print failures only: no ✅ lines, no progress`;

export interface OutputOptions {
  /** Print one JSON document at the end (docs/output.schema.json) instead of text. */
  json?: boolean;
  /** Print nothing for a success that produced no data (no ✅ lines, no progress). */
  quiet?: boolean;
}

/** Why a command stopped before its verdict: `USAGE` (exit 2), or the code of the error. */
export interface OutputError {
  code: string;
  message: string;
}

/** The one Output of this process's command, so that an error thrown past it still ends its JSON. */
let current: Output | undefined;

/**
 * Where every command's outcomes go: each result is printed as text as soon as it is known
 * (src/cli/render-result.ts words it), or, with --json, kept for one document printed at the end,
 * in the one shape all commands share:
 *
 *   { "schemaVersion": 1, "command": "verify", "ok": true, "exitCode": 0,
 *     "results": [ { "subject": "...", "ok": true, "status": "verified", ... } ],
 *     "error": { "code": "USAGE", "message": "..." } }      (only when the command stopped)
 *
 * The exit code follows from the results: 0 when there is at least one and every one holds
 * (results skipped on request aside), 1 otherwise; 2 for a usage error or an input named on the
 * command line that cannot be read.
 */
export class Output {
  private readonly kept: CliResult[] = [];

  constructor(
    readonly command: string,
    private readonly options: OutputOptions = {},
  ) {
    current = this;
  }

  /** The results so far. */
  get results(): readonly CliResult[] {
    return this.kept;
  }

  get json(): boolean {
    return this.options.json === true;
  }

  get quiet(): boolean {
    return this.options.quiet === true;
  }

  /** A result: printed now as text, or kept for the JSON document. */
  add(result: CliResult): void {
    this.kept.push(result);
    if (this.json || ('skipped' in result && result.skipped)) return;
    const { stdout, stderr } = renderText(result);
    // --quiet keeps every failure, and what a command produces as data: fetch's path, hashes.
    const quiet = this.quiet && isOk(result);
    const data = result.kind === 'fetched' || result.kind === 'digest';
    if (stderr !== undefined && !quiet) process.stderr.write(`${stderr}\n`);
    if (stdout !== undefined && (data || !quiet)) process.stdout.write(`${stdout}\n`);
  }

  /** A line for people (a warning, a note): stderr, never in the JSON, not with --quiet. */
  note(line: string): void {
    if (!this.quiet) process.stderr.write(`${line}\n`);
  }

  /** Ends the command: the JSON document with --json; returns the exit code. */
  finish(): number {
    const counted = this.kept.filter((result) => !('skipped' in result && result.skipped));
    const ok = counted.length > 0 && counted.every(isOk);
    const error = counted.length === 0 ? { code: 'NOTHING_CHECKED', message: 'nothing was checked: a check of nothing is a failure' } : undefined;
    if (error && !this.json) process.stderr.write(`kernelseal ${this.command}: ${error.message}\n`);
    return this.end(ok ? EXIT_OK : EXIT_FAILURE, error);
  }

  /** Ends the command on an error thrown before its verdict: the results so far, and why it stopped. */
  fail(exitCode: number, error: OutputError): number {
    return this.end(exitCode, error);
  }

  private end(exitCode: number, error: OutputError | undefined): number {
    if (current === this) current = undefined;
    if (this.json) printDocument(this.command, exitCode, this.kept.map(resultJSON), error);
    return exitCode;
  }
}

/**
 * Ends the command that threw `error`: the Output it opened, or (with --json in `args`) a
 * document of its own, so that --json prints JSON on every outcome, usage errors included.
 */
export function failCommand(command: string, args: readonly string[], exitCode: number, error: OutputError): void {
  if (current) {
    current.fail(exitCode, error);
    return;
  }
  if (asksForJSON(args)) printDocument(command, exitCode, [], error);
}

/** --json (or gh's --format json) among the options, before any `--`. */
export function asksForJSON(args: readonly string[]): boolean {
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  const options = args.slice(0, end);
  return options.some((arg, i) => arg === '--json' || arg === '--format=json' || (arg === '--format' && options[i + 1] === 'json'));
}

function printDocument(command: string, exitCode: number, results: unknown[], error: OutputError | undefined): void {
  const document = { schemaVersion: OUTPUT_SCHEMA_VERSION, command, ok: exitCode === EXIT_OK, exitCode, results, ...(error ? { error } : {}) };
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

