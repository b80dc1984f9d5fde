import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchSigner } from './bench-signer.js';
import { ensureDataset, type Dataset } from './datasets.js';
import { PEAK_RSS_MIB } from './machine.js';
import { median } from './statistics.js';

/** verifyVariant of a variant of many tiny files against hashing it alone, each in a fresh process (medians). */
export interface ManyFilesRow {
  dataset: string;
  files: number;
  hashMs: number;
  verifyMs: number;
  /** verifyMs / hashMs (the target is <= 1.2). */
  ratio: number;
  hashPeakRssMiB: number;
  /** The target is <= 200 MiB. */
  verifyPeakRssMiB: number;
}

/**
 * Signs the data set as a variant (its digest lists every file), then, in interleaved rounds,
 * times `hashVariant` (sha256, the default backend) and `verifyVariant` (signature, policy, every
 * file), each once in a fresh Node process that also reports its peak resident memory.
 */
export async function measureManyFiles(dataset: Dataset, dataDir: string, rounds: number, signer: BenchSigner, log: (line: string) => void): Promise<ManyFilesRow> {
  log(`verify ${dataset.name}: ${dataset.description}`);
  const dir = ensureDataset(dataDir, dataset);
  await signer.sign(dir, 'cpu');
  const publicKey = join(dataDir, `${dataset.name}.pub.pem`);
  await writeFile(publicKey, signer.publicKeyPem);
  const samples = { hash: [] as number[], verify: [] as number[], hashRss: [] as number[], verifyRss: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['hash', 'verify'] as const) : (['verify', 'hash'] as const);
    for (const what of order) {
      const { ms, rssMiB } = await inChild(what, dir, publicKey);
      samples[what].push(ms);
      samples[`${what}Rss`].push(rssMiB);
    }
  }
  const hashMs = median(samples.hash);
  const verifyMs = median(samples.verify);
  return { dataset: dataset.name, files: dataset.files.length, hashMs, verifyMs, ratio: verifyMs / hashMs, hashPeakRssMiB: median(samples.hashRss), verifyPeakRssMiB: median(samples.verifyRss) };
}

/** One hashVariant or verifyVariant in a fresh process: its time and its peak RSS. */
async function inChild(what: 'hash' | 'verify', dir: string, publicKey: string): Promise<{ ms: number; rssMiB: number }> {
  const script = `
    const m = await import(${JSON.stringify(new URL('../index.js', import.meta.url).href)});
    const { readFileSync } = await import('node:fs');
    const dir = ${JSON.stringify(dir)};
    const options = ${what === 'verify'} && { key: readFileSync(${JSON.stringify(publicKey)}, 'utf8'), insecureIgnoreTlog: true };
    const started = performance.now();
    if (options) {
      const result = await m.verifyVariant(dir, options);
      if (result.status !== 'verified') throw new Error('bench: the signed variant did not verify: ' + result.status);
    } else await m.hashVariant('sha256', dir);
    const ms = performance.now() - started;
    console.log(JSON.stringify({ ms, rssMiB: ${PEAK_RSS_MIB} }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { maxBuffer: 1024 * 1024 });
  return JSON.parse(stdout.trim()) as { ms: number; rssMiB: number };
}
