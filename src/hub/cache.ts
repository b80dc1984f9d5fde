import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { HubFile, RepoType } from './hub-client.js';
import { hubCacheRoot } from './hub-env.js';

/**
 * The Hugging Face cache layout, so that kernels fetched here and by `huggingface_hub` share it:
 *
 *   <cache>/kernels--<org>--<name>/blobs/<object id>        file contents, named by ID
 *   <cache>/kernels--<org>--<name>/refs/<revision>          the commit a revision resolved to
 *   <cache>/kernels--<org>--<name>/snapshots/<commit>/<path> -> ../../blobs/<object id>
 *   <cache>/.locks/kernels--<org>--<name>/<object id>.lock  one downloader per blob
 *
 * Blobs are downloaded to `<id>.incomplete` (resumed across runs) and renamed when complete and
 * checked; snapshot links are made under a temporary name and renamed over: concurrent fetchers
 * never see a partial file or link.
 */
export class HubCache {
  readonly repoDir: string;
  private readonly lockDir: string;

  constructor(
    readonly root: string,
    readonly repoId: string,
    repoType: RepoType,
  ) {
    const name = `${repoType}s--${repoId.replace('/', '--')}`;
    this.repoDir = join(root, name);
    this.lockDir = join(root, '.locks', name);
  }

  /** The default cache, as huggingface_hub finds it (src/hub/hub-env.ts). */
  static defaultRoot(): string {
    return hubCacheRoot();
  }

  snapshotDir(commit: string): string {
    return join(this.repoDir, 'snapshots', commit);
  }

  /** The commit a revision resolved to last time (offline use), if any. */
  async readRef(revision: string): Promise<string | undefined> {
    const text = await readFile(this.inside(join(this.repoDir, 'refs', revision)), 'utf8').catch(() => undefined);
    return text && /^[0-9a-f]{40}$/.test(text.trim()) ? text.trim() : undefined;
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    await writeAtomically(this.inside(join(this.repoDir, 'refs', revision)), commit);
  }

  /**
   * Makes `<snapshot>/<file.path>` point at the blob of `file`, downloading the blob with
   * `fetch` (into the `.incomplete` path it is given) unless it is already here. One process at
   * a time downloads a given blob; the others wait for it, then link.
   */
  async ensureFile(commit: string, file: HubFile, fetch: (incomplete: string) => Promise<void>): Promise<string> {
    const id = file.lfsSha256 ?? file.blobId;
    const blob = join(this.repoDir, 'blobs', id);
    const link = this.inside(join(this.snapshotDir(commit), file.path));
    if (!(await isComplete(blob, file.size))) {
      await this.withLock(id, async () => {
        if (await isComplete(blob, file.size)) return; // another fetcher finished it
        await mkdir(dirname(blob), { recursive: true });
        const incomplete = `${blob}.incomplete`;
        try {
          await fetch(incomplete);
        } catch (error) {
          // A partial download is kept to resume; a wrong one is thrown away.
          if ((error as { status?: number }).status === 422) await rm(incomplete, { force: true });
          throw error;
        }
        await rename(incomplete, blob);
      });
    }
    await linkAtomically(relative(dirname(link), blob), link);
    return link;
  }

  /** Every path built from the Hub's listing must stay inside the cache's repository folder. */
  private inside(path: string): string {
    const absolute = resolve(path);
    if (!absolute.startsWith(resolve(this.repoDir) + sep)) throw new Error(`refusing a cache path outside ${this.repoDir}: ${path}`);
    return absolute;
  }

  /** Runs `work` holding `<id>.lock` (created exclusively); waits while another process holds it. */
  private async withLock(id: string, work: () => Promise<void>): Promise<void> {
    await mkdir(this.lockDir, { recursive: true });
    const lock = join(this.lockDir, `${id}.lock`);
    for (let wait = 10; ; wait = Math.min(wait * 2, 500)) {
      try {
        const handle = await open(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (await isStale(lock)) await unlink(lock).catch(() => {});
        else await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    try {
      await work();
    } finally {
      await unlink(lock).catch(() => {});
    }
  }
}

/** A lock whose holder is gone (the process died) or that is older than ten minutes. */
async function isStale(lock: string): Promise<boolean> {
  const [pid, info] = await Promise.all([readFile(lock, 'utf8').catch(() => ''), stat(lock).catch(() => undefined)]);
  if (!info) return false;
  if (Date.now() - info.mtimeMs > 10 * 60_000) return true;
  const holder = Number(pid);
  if (!Number.isInteger(holder) || holder <= 0) return Date.now() - info.mtimeMs > 5_000; // being written
  try {
    process.kill(holder, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function isComplete(blob: string, size: number): Promise<boolean> {
  return stat(blob).then((info) => info.isFile() && info.size === size, () => false);
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

async function linkAtomically(target: string, link: string): Promise<void> {
  if ((await readlink(link).catch(() => undefined)) === target) return;
  await mkdir(dirname(link), { recursive: true });
  const temp = `${link}.${randomBytes(6).toString('hex')}.tmp`;
  await symlink(target, temp);
  await rename(temp, link);
}
