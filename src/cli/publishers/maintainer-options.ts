import { ROLE_NAMES, parsePeriod, type RoleName } from '../library/signing.js';
import { existsSync } from 'node:fs';
import { UsageError } from '../usage.js';

/**
 * The folder a maintainer subcommand works on: exactly one operand, there already unless it is
 * to be made (`init`): a folder that is not there is a usage error (exit 2), as in every command.
 */
export function folderOperand(positionals: string[], what: string, made = false): string {
  if (positionals.length !== 1) throw new UsageError(`expected the list's folder (${what})`);
  if (!made && !existsSync(positionals[0]!)) throw new UsageError(`${positionals[0]}: no such folder`);
  return positionals[0]!;
}

/** A signature lifetime flag ("365d", "12h") in milliseconds. */
export function periodFlag(value: string, flag: string): number {
  const ms = parsePeriod(value);
  if (ms === undefined) throw new UsageError(`${flag} must be a period such as 365d, 7d or 12h (got ${JSON.stringify(value)})`);
  return ms;
}

/** A role named on the command line. */
export function roleFlag(value: string, flag: string): RoleName {
  if (!ROLE_NAMES.includes(value as RoleName)) throw new UsageError(`${flag} must be one of ${ROLE_NAMES.join(', ')} (got ${JSON.stringify(value)})`);
  return value as RoleName;
}

/** The keys folder, required where anything is signed. */
export function keysFlag(value: string | undefined): string {
  if (value === undefined) throw new UsageError('--keys DIR is required: the folder of the private keys (outside the list folder)');
  return value;
}
