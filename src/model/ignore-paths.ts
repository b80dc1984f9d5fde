import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { safeRelativePath } from './statement.js';

/**
 * Paths every model signature leaves out, at the model root only (OMS v1.0 section 6.2): a
 * nested `.git` is model content.
 */
export const DEFAULT_IGNORE_PATHS: readonly string[] = ['.git', '.gitattributes', '.github', '.gitignore'];

/** An ignore path that cannot be one: outside the model, or not a plain path. */
export class IgnorePathError extends Error {
  override readonly name = 'IgnorePathError';
  readonly code = 'IGNORE_PATH_INVALID' as const;
}

/**
 * Ignore paths as the specification records them: exact POSIX paths relative to the model
 * root (`./a//b` is `a/b`). A relative path is read from the model root; when nothing is there
 * but the path names something inside the model from the current directory (as model_signing
 * 1.x took them: `--ignore-paths model/ignore-me`), it is read that way. An absolute path must
 * lie inside the model. A relative path that names two different existing paths these two ways
 * is refused as ambiguous. Globs are not patterns: `*` is a file name like any other.
 */
export async function modelRelativePaths(modelPath: string, paths: readonly string[]): Promise<string[]> {
  const root = resolve(modelPath);
  const out: string[] = [];
  for (const path of paths) {
    let relativePath: string | undefined;
    if (isAbsolute(path)) relativePath = inside(root, resolve(path));
    else {
      const fromRoot = posix.normalize(path.split(sep).join('/')).replace(/\/$/, '');
      const fromCwd = inside(root, resolve(path));
      const [rootExists, cwdExists] = await Promise.all([exists(resolve(root, fromRoot)), exists(resolve(path))]);
      if (fromCwd !== undefined && fromCwd !== fromRoot && rootExists && cwdExists) {
        throw new IgnorePathError(`ignore path ${JSON.stringify(path)} is ambiguous: it names ${fromRoot} from the model root and ${fromCwd} from here; give it from the model root, or absolute`);
      }
      relativePath = fromCwd !== undefined && cwdExists && !rootExists ? fromCwd : fromRoot;
    }
    if (relativePath === undefined || !safeRelativePath(relativePath)) throw new IgnorePathError(`ignore path ${JSON.stringify(path)} is not a path inside the model`);
    out.push(relativePath);
  }
  return out;
}

/**
 * The signature file's path relative to the model, when it is inside the model directory
 * (also through symlinks: both paths are resolved where they exist).
 */
export async function signatureInsideModel(modelPath: string, signaturePath: string): Promise<string | undefined> {
  const real = async (path: string) => {
    const parent = await realpath(dirname(resolve(path))).catch(() => dirname(resolve(path)));
    return join(parent, basename(path));
  };
  return inside(resolve(modelPath), resolve(signaturePath)) ?? inside(await realpath(modelPath).catch(() => resolve(modelPath)), await real(signaturePath));
}

function inside(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
