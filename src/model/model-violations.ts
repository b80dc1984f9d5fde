import { MissingFile, UnknownFile } from '../digest/violations.js';
import { compareResourceNames, parseShardName, type Resource, type Serialization } from './manifest.js';

/** A file whose content differs from the signed one: its digest, or some of its shards. */
export class ModelHashMismatch {
  readonly kind = 'hash-mismatch';
  constructor(
    readonly path: string,
    /** Files: the signed and the actual digest, as `<algorithm>:<hex>`. */
    readonly expected?: string,
    readonly actual?: string,
    /** Shards: the byte ranges (`start:end`) signed or hashed whose digests differ (or are absent on one side). */
    readonly shards?: readonly string[],
    /** Shards: the file's size when signed and now, when they differ. */
    readonly sizes?: { signed: number; actual: number },
  ) {}
  toString(): string {
    if (this.shards) {
      const size = this.sizes ? ` (${this.sizes.signed} bytes when signed, ${this.sizes.actual} now)` : '';
      return `File hash mismatch for ${this.path}: shards ${this.shards.join(', ')} differ${size}`;
    }
    return `File hash mismatch for ${this.path}: expected: ${this.expected}, got: ${this.actual}`;
  }
}

export type ModelViolation = MissingFile | UnknownFile | ModelHashMismatch;

/**
 * Every difference between the signed resources and the hashed ones, file by file in the
 * reference's order: files missing on disk, files on disk the signature does not list, files
 * whose content differs (for shards: which ranges). Order and algorithm spelling of the
 * resources do not matter; their names and digests do.
 */
export function compareResources(expected: readonly Resource[], actual: readonly Resource[], method: Serialization['method']): ModelViolation[] {
  const signed = byFile(expected, method);
  const found = byFile(actual, method);
  const paths = [...new Set([...signed.keys(), ...found.keys()])].sort((a, b) => compareResourceNames(a, b, 'files'));
  const violations: ModelViolation[] = [];
  for (const path of paths) {
    const want = signed.get(path);
    const got = found.get(path);
    if (!got) violations.push(new MissingFile(path));
    else if (!want) violations.push(new UnknownFile(path));
    else if (method === 'files') {
      const [w] = want.values();
      const [g] = got.values();
      if (w!.digest !== g!.digest) violations.push(new ModelHashMismatch(path, `${w!.algorithm}:${w!.digest}`, `${g!.algorithm}:${g!.digest}`));
    } else {
      // Both ways: a range hashed now but not signed differs as much as one signed and gone.
      const differ = [...new Set([...want.keys(), ...got.keys()])].filter((range) => want.get(range)?.digest !== got.get(range)?.digest).sort(byRange);
      const sizes = { signed: end(want), actual: end(got) };
      if (differ.length > 0) violations.push(new ModelHashMismatch(path, undefined, undefined, differ, sizes.signed === sizes.actual ? undefined : sizes));
    }
  }
  return violations;
}

function byRange(a: string, b: string): number {
  const [aStart, aEnd] = a.split(':').map(Number) as [number, number];
  const [bStart, bEnd] = b.split(':').map(Number) as [number, number];
  return aStart - bStart || aEnd - bEnd;
}

/** The end of a file's last shard: its size. */
function end(ranges: Map<string, Resource>): number {
  let max = 0;
  for (const range of ranges.keys()) max = Math.max(max, Number(range.split(':')[1]));
  return max;
}

/** Resources grouped by file: path -> (range, or '' for a whole file) -> resource. */
function byFile(resources: readonly Resource[], method: Serialization['method']): Map<string, Map<string, Resource>> {
  const files = new Map<string, Map<string, Resource>>();
  for (const resource of resources) {
    const shard = method === 'shards' ? parseShardName(resource.name) : undefined;
    const path = shard?.path ?? resource.name;
    const range = shard ? `${shard.start}:${shard.end}` : '';
    if (!files.has(path)) files.set(path, new Map());
    files.get(path)!.set(range, resource);
  }
  return files;
}
