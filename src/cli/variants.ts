import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './usage.js';

/**
 * The variants a path stands for: a kernel directory (with build/ and no metadata.json of its
 * own) stands for build/<variant>/, in name order, as `cosign sign-blob` is run over each
 * build/*\/metadata.json; anything else is taken as a variant.
 */
export function expandKernel(path: string): string[] {
  const build = join(path, 'build');
  if (existsSync(join(path, 'metadata.json')) || !existsSync(build) || !statSync(build).isDirectory()) return [path];
  const variants = readdirSync(build, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(build, entry.name))
    .sort();
  if (variants.length === 0) throw new UsageError(`${path}: build/ holds no variant directories`);
  return variants;
}
