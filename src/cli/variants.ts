import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { parseVariantName } from './library/hashing.js';
import { UsageError } from './usage.js';

/** A variant to verify, or an entry of a kernel's build/ that cannot be one (and fails). */
export type VariantTarget = { path: string } | { path: string; refused: string };

const PROVENANCE = /^(.+)\.provenance\.sigstore\.json$/;

/**
 * The variants a path stands for. A kernel directory (with build/ and no metadata.json of its
 * own) stands for every entry of build/, in name order, as `cosign sign-blob` is run over each
 * build/*\/metadata.json; an entry that is not a real directory (a symlink, a file) is not
 * skipped but refused, so that no variant can drop out of the check unseen; so is anything the
 * kernels loader would load from outside build/ (a variant-named directory, an `__init__.py`).
 * A directory with
 * both metadata.json and build/ is ambiguous and refused; anything else is taken as a variant.
 */
export function expandKernel(path: string): VariantTarget[] {
  if (path === '') throw new UsageError('an empty path: name a variant or kernel directory');
  const root = statOrUndefined(path, statSync);
  if (!root) throw new UsageError(`${path}: no such directory`);
  if (!root.isDirectory()) throw new UsageError(`${path}: not a directory`);
  const metadata = statOrUndefined(join(path, 'metadata.json'), lstatSync);
  const build = statOrUndefined(join(path, 'build'), lstatSync);
  if (!build) return [{ path }];
  if (metadata) {
    throw new UsageError(`${path}: ambiguous: it has both metadata.json (a variant) and build/ (a kernel); verify ${join(path, 'build', '<variant>')} for the variants`);
  }
  if (!build.isDirectory()) return [{ path: join(path, 'build'), refused: `build is ${describeKind(build)}, not a directory` }];
  // The kernels loader looks for <kernel>/<variant> before <kernel>/build/<variant>, and imports
  // the kernel directory itself when no variant fits: code there would run unverified.
  const outside: VariantTarget[] = readdirSync(path)
    .filter((name) => parseVariantName(name) !== undefined || name === '__init__.py')
    .sort()
    .map((name) => ({ path: join(path, name), refused: `outside build/, where the kernels loader would load it before (or instead of) the verified variants` }));
  const entries = readdirSync(join(path, 'build'), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (entries.length === 0) throw new UsageError(`${path}: build/ holds no variant directories`);
  return [
    ...outside,
    ...entries.flatMap((entry) => {
      const variant = join(path, 'build', entry.name);
      if (entry.isDirectory()) return [{ path: variant }];
      // A variant's provenance (variant-provenance.ts) sits beside it: part of that variant, not one of its own.
      const of = PROVENANCE.exec(entry.name)?.[1];
      if (entry.isFile() && of !== undefined && entries.some((e) => e.name === of && e.isDirectory())) return [];
      return [{ path: variant, refused: `${describeKind(lstatSync(variant))} in build/, where only variant directories belong` }];
    }),
  ];
}

function statOrUndefined(path: string, how: (path: string) => Stats): Stats | undefined {
  try {
    return how(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`${path}: ${(error as Error).message}`);
  }
}

function describeKind(info: Stats): string {
  if (info.isSymbolicLink()) return 'a symlink';
  if (info.isFile()) return 'a file';
  if (info.isDirectory()) return 'a directory';
  return 'a special file';
}
