import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { compareResourceNames } from './manifest.js';

/** A file of a model: its resource name and where it is on disk. */
export interface ModelFile {
  /** POSIX path from the model root; `.` for a single-file model (as the reference names it). */
  name: string;
  path: string;
}

export interface ListModelOptions {
  /** Model-relative paths to leave out, each with everything below it. */
  ignorePaths?: readonly string[];
  /** Follow symlinks to files (hashing the target under the link's name); else refuse them. */
  allowSymlinks?: boolean;
}

/** The model cannot be listed: the message names the path and the reason. */
export class ModelFilesError extends Error {
  override readonly name = 'ModelFilesError';
  readonly code = 'MODEL_FILES_UNREADABLE' as const;
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${reason}`, options);
  }
}

/**
 * Lists the files of the model at `modelPath` by the rules of model_signing (OMS v1.0 section
 * 6.1), sorted as the reference sorts them:
 * - every regular file below the root, hidden ones included; empty directories add nothing;
 * - ignore paths leave out the path named and its subtree, and are checked first (an ignored
 *   symlink or FIFO is never looked at);
 * - a symlink is refused unless `allowSymlinks`; then a link to a file is listed under the link's
 *   name; a link to a directory is refused (the reference skips it, leaving its content
 *   unchecked), and so is a dangling link;
 * - FIFOs, sockets and devices are refused: they are neither file nor directory;
 * - a name that is not valid UTF-8, or holds a backslash, is refused (the manifest could not
 *   name it unambiguously).
 * A single file (the root path itself) is a model of one file named `.`. The root itself may be
 * a symlink: it is the path the user named.
 */
export async function listModelFiles(modelPath: string, options: ListModelOptions = {}): Promise<ModelFile[]> {
  const ignored = new Set(options.ignorePaths ?? []);
  const root = await stat(modelPath).catch((error: NodeJS.ErrnoException) => {
    throw new ModelFilesError(modelPath, error.code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${error.message}`, { cause: error });
  });
  if (root.isFile()) return [{ name: '.', path: modelPath }];
  if (!root.isDirectory()) throw new ModelFilesError(modelPath, 'neither a file nor a directory');

  const files: ModelFile[] = [];
  const pending: Array<{ dir: string; prefix: string }> = [{ dir: modelPath, prefix: '' }];
  while (pending.length > 0) {
    const { dir, prefix } = pending.pop()!;
    const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' }).catch((error: Error) => {
      throw new ModelFilesError(dir, `cannot read directory: ${error.message}`, { cause: error });
    });
    for (const entry of entries) {
      const raw = entry.name;
      const name = raw.toString('utf8');
      const path = join(dir, name);
      if (!Buffer.from(name, 'utf8').equals(raw)) throw new ModelFilesError(join(dir, raw.toString('latin1')), 'the file name is not valid UTF-8');
      // A manifest path is `/`-separated: a backslash would mean a separator to some readers.
      if (name.includes('\\')) throw new ModelFilesError(path, 'the file name holds a backslash, which a model manifest cannot name unambiguously');
      const key = prefix === '' ? name : `${prefix}/${name}`;
      if (isIgnored(key, ignored)) continue;
      if (entry.isDirectory()) pending.push({ dir: path, prefix: key });
      else if (entry.isFile()) files.push({ name: key, path });
      else if (entry.isSymbolicLink()) {
        if (!options.allowSymlinks) throw new ModelFilesError(path, 'is a symlink, and this model is hashed without following symlinks (allow_symlinks false)');
        const target = await stat(path).catch((error: NodeJS.ErrnoException) => {
          throw new ModelFilesError(path, `dangling symlink (${error.code ?? error.message})`, { cause: error });
        });
        // A linked directory is neither hashed nor skipped in silence: a loader would read it.
        if (!target.isFile()) throw new ModelFilesError(path, `is a symlink to ${target.isDirectory() ? 'a directory, which model signing does not follow' : 'something that is neither a file nor a directory'}`);
        files.push({ name: key, path });
      } else throw new ModelFilesError(path, 'is neither a file nor a directory (a FIFO, socket or device)');
    }
  }
  return files.sort((a, b) => compareResourceNames(a.name, b.name, 'files'));
}

/** Whether `key` or one of its parent directories is an ignore path. */
function isIgnored(key: string, ignored: ReadonlySet<string>): boolean {
  if (ignored.size === 0) return false;
  for (let end = key.indexOf('/'); end !== -1; end = key.indexOf('/', end + 1)) {
    if (ignored.has(key.slice(0, end))) return true;
  }
  return ignored.has(key);
}

/**
 * The subject name of a model: the base name of the path the user gave (a directory's name, or
 * a single file's), or of the resolved path when that says nothing (`.`, `..`).
 */
export function modelName(modelPath: string, resolved: string): string {
  const name = basename(modelPath);
  return name === '' || name === '.' || name === '..' ? basename(resolved) : name;
}
