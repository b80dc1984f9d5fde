import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyRing } from '../kernels/publishers/list-keys.js';
import { DEFAULT_PERIODS, ListRepository } from '../kernels/publishers/list-repository.js';
import { openPublisherList } from '../kernels/publishers/open-list.js';
import { timed } from './methods.js';
import { median } from './statistics.js';

/** What a trusted publisher list adds to a load: the list stage (docs/publishers.md) opened cold and warm. */
export interface ListOpenRow {
  entries: number;
  /** Opened with no state: every TUF role read and verified from the list's folder. */
  coldMs: number;
  /** Opened again within the refresh interval: from the user's state alone, no request (what a warm getKernel pays). */
  warmMs: number;
}

const ENTRIES = 100;

/**
 * A list of ENTRIES entries, made and signed as a maintainer would (src/kernels/publishers/
 * list-repository.ts) in a folder, then opened as getKernel's first stage opens it
 * (src/kernels/hub/open-trust.ts), in rounds: once from empty state, once warm. The bench's kernel
 * loads are signed with a managed key, which a list never trusts, so the stage is timed on its
 * own: a warm load with a list costs the offline second load plus this warm open.
 */
export async function measureListOpen(dataDir: string, rounds: number, log: (line: string) => void): Promise<ListOpenRow> {
  log(`publisher list: ${ENTRIES} entries, opened cold and warm`);
  const work = join(dataDir, 'list-work');
  await rm(work, { recursive: true, force: true });
  try {
    const [listDir, keysDir, stateDir] = [join(work, 'list'), join(work, 'keys'), join(work, 'state')];
    const { repository } = await ListRepository.init(listDir, keysDir, { rootKeys: 1, rootThreshold: 1, periods: DEFAULT_PERIODS });
    await repository.editDraft((list) => {
      for (let i = 0; i < ENTRIES; i++) list.entries.push({ repos: `org-${i}/*`, policy: { github: { repository: `org-${i}/kernels` } }, note: `org-${i} CI` });
    });
    await repository.sign(await KeyRing.read(keysDir));
    const open = async (from: 'network' | 'cache') => {
      const list = await openPublisherList({ list: listDir, root: join(listDir, 'metadata', '1.root.json'), stateDir, onWarning: () => {} });
      if (list.from !== from || list.entries.length !== ENTRIES || (from === 'cache' && list.requests !== 0)) throw new Error(`bench: the publisher list was not opened from the ${from}`);
    };
    const samples = { cold: [] as number[], warm: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      await rm(stateDir, { recursive: true, force: true });
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      samples.cold.push((await timed(() => open('network'))) * 1000);
      samples.warm.push((await timed(() => open('cache'))) * 1000);
    }
    return { entries: ENTRIES, coldMs: median(samples.cold), warmMs: median(samples.warm) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
