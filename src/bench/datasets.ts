import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A data set the benchmark builds for itself: files of given sizes under one directory. */
export interface Dataset {
  name: string;
  description: string;
  files: Array<{ path: string; size: number }>;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The data sets of the benchmark, by name. */
export function datasetSpecs(): Dataset[] {
  const range = (count: number, name: (i: number) => string, size: (i: number) => number) =>
    Array.from({ length: count }, (_, i) => ({ path: name(i), size: size(i) }));
  return [
    { name: '1x1GiB', description: 'one 1 GiB file', files: [{ path: 'model.bin', size: GiB }] },
    { name: '64x16MiB', description: '64 files of 16 MiB', files: range(64, (i) => `shard-${String(i).padStart(2, '0')}.bin`, () => 16 * MiB) },
    { name: '32x16MiB', description: '32 files of 16 MiB', files: range(32, (i) => `shard-${String(i).padStart(2, '0')}.bin`, () => 16 * MiB) },
    { name: '1000x64KiB', description: '1000 files of 64 KiB', files: range(1000, (i) => `small/${String(i).padStart(4, '0')}.py`, () => 64 * 1024) },
    {
      name: 'kernel-variant',
      description: 'a realistic kernel variant: 3 large .so/.cubin, 200 small .py',
      files: [
        { path: '_relu_cuda_1a2b3c.abi3.so', size: 180 * MiB },
        { path: 'kernels/relu_sm80.cubin', size: 24 * MiB },
        { path: 'kernels/relu_sm90.cubin', size: 28 * MiB },
        ...range(200, (i) => `relu/module_${i}.py`, (i) => 2_000 + ((i * 7919) % 30_000)),
      ],
    },
    {
      name: '2GiB-variant',
      description: 'a 2 GiB variant: one 1 GiB file, 63 of 16 MiB, 200 small .py (for peak memory)',
      files: [
        { path: 'weights.bin', size: GiB },
        ...range(63, (i) => `shards/shard-${String(i).padStart(2, '0')}.so`, () => 16 * MiB),
        ...range(200, (i) => `glue/module_${i}.py`, (i) => 2_000 + ((i * 7919) % 30_000)),
      ],
    },
    {
      name: 'tiny-variant',
      description: 'a tiny variant: 10 files of 4 KiB and one of 128 KiB (to try the kernel loads quickly)',
      files: [...range(10, (i) => `tiny/module_${i}.py`, () => 4096), { path: '_tiny.abi3.so', size: 128 * 1024 }],
    },
    {
      name: '100000-files',
      description: 'a variant of 100,000 files of 100 bytes in 100 folders (for verify: memory and time per file)',
      files: range(100_000, (i) => `m${String(Math.floor(i / 1000)).padStart(2, '0')}/f${String(i % 1000).padStart(3, '0')}.py`, () => 100),
    },
    {
      name: '10GB-model',
      description: 'a 10 GB model directory: 4 weight files of 2.5 GB, config and tokenizer (for verify-model; on request)',
      files: [
        ...range(4, (i) => `model-0000${i + 1}-of-00004.safetensors`, () => 2_500_000_000),
        { path: 'config.json', size: 2_000 },
        { path: 'tokenizer.json', size: 9 * MiB },
      ],
    },
  ];
}

export function totalBytes(dataset: Dataset): number {
  return dataset.files.reduce((sum, file) => sum + file.size, 0);
}

/** Creates the data set under `root/<name>` (random content) unless it is already complete. */
export function ensureDataset(root: string, dataset: Dataset): string {
  const dir = join(root, dataset.name);
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  const building = `${dir}.building`;
  rmSync(building, { recursive: true, force: true });
  const chunk = Buffer.allocUnsafe(4 * MiB);
  for (const file of dataset.files) {
    const path = join(building, file.path);
    mkdirSync(join(path, '..'), { recursive: true });
    const fd = openSync(path, 'w');
    for (let written = 0; written < file.size; ) {
      const n = Math.min(chunk.length, file.size - written);
      randomFillSync(chunk, 0, n);
      written += writeSync(fd, chunk, 0, n);
    }
    closeSync(fd);
  }
  closeSync(openSync(join(building, '.complete'), 'w'));
  renameSync(building, dir);
  return dir;
}

