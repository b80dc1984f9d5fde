import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, open, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileSystemSync } from '../fs/sync-file-system.js';
import { HubCache } from '../kernels/hub/cache.js';
import { getKernel } from '../kernels/hub/get-kernel.js';
import type { BenchSigner } from './bench-signer.js';
import { ensureDataset, totalBytes, type Dataset } from './datasets.js';
import { startLocalHubProcess, type LocalHub } from './hub-server.js';
import { timed } from './methods.js';
import { median } from './statistics.js';

/** A first and a second load of one variant from the local Hub, against a plain download (medians). */
export interface HubLoadRow {
  dataset: string;
  files: number;
  bytes: number;
  /** Fetching the same files from the same server into a fresh folder: no hashing, no checks. */
  plainSeconds: number;
  /** getKernel into an empty cache: downloaded, verified, a receipt written. */
  firstLoadSeconds: number;
  /** firstLoadSeconds / plainSeconds: what verification adds to the download (the target is <= 1.10). */
  ratio: number;
  /** Whether every first load verified as the files streamed in, without reading them again. */
  streamed: boolean;
  /** getKernel again, offline (HF_HUB_OFFLINE): the receipt, no network. */
  secondLoadOfflineMs: number;
  /** getKernel again, online: the revision asked of the Hub, each blob found in place, the receipt. */
  secondLoadOnlineMs: number;
  /**
   * A stat (links followed) of every file of the cached variant, one after another, in this
   * process: the least a second load can cost, since it must look at every file to know it is
   * still the one verified (the engine spreads these stats over its threads).
   */
  statFloorMs: number;
}

const REPO = 'kernelseal/bench';
const VARIANT = 'torch210-cxx11-cpu-x86_64-linux';
const CONCURRENCY = 4;
/** A data set this small keeps every round's files until its last round is done (below: why). */
const KEEP_ROUNDS_BYTES = 256 * 1024 * 1024;

/**
 * For each data set as a kernel variant served by a local Hub (src/bench/hub-server.ts): in
 * interleaved rounds, a plain download of its files and a first getKernel into an empty cache
 * (the order alternates, so that neither always goes first), then two second loads from the
 * cache. Each round's files are removed before the next round, or for a small data set once
 * its last round is done.
 */
export async function measureHubLoads(datasets: Dataset[], dataDir: string, rounds: number, signer: BenchSigner, log: (line: string) => void): Promise<HubLoadRow[]> {
  const rows: HubLoadRow[] = [];
  const work = join(dataDir, 'hub-work');
  // The receipts' key of the bench (one per round, below), not the user's (src/kernels/hub/receipt-key.ts).
  const keyFile = process.env.KERNELSEAL_RECEIPT_KEY_FILE;
  try {
    for (const dataset of datasets) {
      log(`hub load ${dataset.name}: ${dataset.description}`);
      const repo = await benchRepository(dataDir, dataset, signer);
      const hub = await startLocalHubProcess(REPO, repo);
      try {
        const samples = { plain: [] as number[], first: [] as number[], offline: [] as number[], online: [] as number[], stats: [] as number[] };
        let streamed = true;
        await rm(work, { recursive: true, force: true });
        for (let round = 0; round < rounds; round++) {
          // Each round in a folder of its own. A small data set's are all removed after the last
          // round: removing a round's thousands of files just before the next is timed made every
          // file either load then created cost a scan of the inodes just freed (ext4 without a
          // journal skips an inode freed in the last minutes: recently_deleted() in
          // fs/ext4/ialloc.c), a cost of the bench's own cleaning, three times heavier on a load (a
          // lock, a blob and a link per file, as huggingface_hub makes them) than on the plain
          // download (one file). A large one's (few files) are removed at once: gigabytes of a
          // plain download left dirty would be written back during the next round's timings.
          if (totalBytes(dataset) > KEEP_ROUNDS_BYTES) await rm(work, { recursive: true, force: true });
          const roundDir = join(work, `round-${round}`);
          await mkdir(roundDir, { recursive: true });
          process.env.KERNELSEAL_RECEIPT_KEY_FILE = join(roundDir, 'receipt.key');
          const cacheDir = join(roundDir, 'cache');
          const plain = async () => {
            await settle(work);
            samples.plain.push(await timed(() => plainDownload(hub, join(roundDir, 'plain'))));
          };
          const first = async () => {
            await settle(work);
            samples.first.push(
              await timed(async () => {
                const kernel = await load(hub, cacheDir, signer, false, () => (streamed = false));
                if (!kernel.verified || kernel.fromReceipt) throw new Error('bench: the first load did not verify the files');
              }),
            );
          };
          if (round % 2 === 0) await plain().then(first);
          else await first().then(plain);
          for (const [offline, list] of [[true, samples.offline], [false, samples.online]] as const) {
            list.push(
              (await timed(async () => {
                if (!(await load(hub, cacheDir, signer, offline)).fromReceipt) throw new Error('bench: the second load did not use the receipt');
              })) * 1000,
            );
          }
          samples.stats.push((await timed(() => statEveryFile(cacheDir, hub))) * 1000);
        }
        const plainSeconds = median(samples.plain);
        const firstLoadSeconds = median(samples.first);
        rows.push({
          dataset: dataset.name,
          files: dataset.files.length,
          bytes: totalBytes(dataset),
          plainSeconds,
          firstLoadSeconds,
          ratio: firstLoadSeconds / plainSeconds,
          streamed,
          secondLoadOfflineMs: median(samples.offline),
          secondLoadOnlineMs: median(samples.online),
          statFloorMs: median(samples.stats),
        });
      } finally {
        await hub.close();
        await rm(work, { recursive: true, force: true });
      }
    }
  } finally {
    if (keyFile === undefined) delete process.env.KERNELSEAL_RECEIPT_KEY_FILE;
    else process.env.KERNELSEAL_RECEIPT_KEY_FILE = keyFile;
  }
  return rows;
}

/**
 * Writes out, untimed, what earlier steps left unwritten on the file system of `dir`: a load
 * writes its files out before its receipt with one syncfs (src/kernels/hub/cache.ts
 * makeDurable), which would otherwise also write out the plain download's files, timed as the
 * load's. Nothing where the addon has no syncfs.
 */
async function settle(dir: string): Promise<void> {
  const sync = fileSystemSync();
  if (!sync) return;
  const handle = await open(dir, 'r');
  try {
    await sync(handle.fd);
  } finally {
    await handle.close();
  }
}

/** Stats every file of the variant as the cache holds it (through the snapshot's links), synchronously, one by one. */
async function statEveryFile(cacheDir: string, hub: LocalHub): Promise<void> {
  const cache = new HubCache(cacheDir, REPO, 'kernel');
  await cache.close();
  const [commit] = readdirSync(join(cache.repoDir, 'snapshots'));
  const snapshot = cache.snapshotDir(commit!);
  for (const file of hub.files) if (file.path.startsWith(`build/${VARIANT}/`)) statSync(join(snapshot, file.path));
}

function load(hub: LocalHub, cacheDir: string, signer: BenchSigner, offline: boolean, onHashed?: () => void) {
  // The bench's own state folder (the signers it remembers), never the user's: src/fs/user-state.ts.
  const stateDir = join(dirname(cacheDir), 'state');
  return getKernel(REPO, { endpoint: hub.url, cacheDir, stateDir, ...signer.anchor, revision: 'main', variant: VARIANT, offline, concurrency: CONCURRENCY, onWarning: () => {}, onHashProgress: onHashed });
}

/**
 * The data set as a signed kernel variant in a repository folder: links to the data set's
 * files (the Hub server follows them), metadata.json, and its signature (signed again by each
 * run, with its own key). Links a run before made are kept: removing a thousand of them just
 * before the loads are timed slows the files those loads create (see measureHubLoads).
 */
async function benchRepository(dataDir: string, dataset: Dataset, signer: BenchSigner): Promise<string> {
  const source = ensureDataset(dataDir, dataset);
  const repo = join(dataDir, 'hub-repo', dataset.name);
  const variant = join(repo, 'build', VARIANT);
  const linked = (file: Dataset['files'][number]) => {
    try {
      return readlinkSync(join(variant, file.path)) === join(source, file.path);
    } catch {
      return false;
    }
  };
  if (!dataset.files.every(linked)) {
    await rm(repo, { recursive: true, force: true });
    for (const file of dataset.files) {
      await mkdir(dirname(join(variant, file.path)), { recursive: true });
      await symlink(join(source, file.path), join(variant, file.path));
    }
  }
  await signer.sign(variant, 'cpu');
  return repo;
}

/**
 * What getKernel downloads (every file of the variant), fetched from the same server the same
 * way (fetch, each chunk written at its offset, CONCURRENCY files at a time) and nothing else.
 */
async function plainDownload(hub: LocalHub, dir: string): Promise<void> {
  const files = hub.files.filter((f) => f.path.startsWith(`build/${VARIANT}/`));
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < files.length; index = next++) {
      const file = files[index]!;
      const path = join(dir, file.path);
      await mkdir(dirname(path), { recursive: true });
      const response = await fetch(hub.fileUrl(file.path));
      if (!response.ok) throw new Error(`bench: the local Hub answered ${response.status} for ${file.path}`);
      const handle = await open(path, 'wx');
      try {
        let written = 0;
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          await handle.write(chunk, 0, chunk.length, written);
          written += chunk.length;
        }
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
}
