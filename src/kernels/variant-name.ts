/**
 * Kernel variant names, as kernel-builder writes them under build/:
 *   torch210-cxx11-cu128-x86_64-linux    torch 2.10, C++11 ABI, CUDA 12.8, x86_64, Linux
 *   torch210-cu128-x86_64-windows        no ABI tag
 *   torch29-metal-aarch64-darwin         Metal
 *   torch-cuda, torch-universal          built for any torch (Python only, or a backend only)
 */
export interface VariantName {
  name: string;
  /** "2.10"; undefined for torch-<backend> variants. */
  torch?: string;
  cxxAbi?: 'cxx11' | 'cxx98';
  /** cuda, rocm, xpu, cpu, metal, npu, neuron, or universal. */
  backend: string;
  /** "12.8" for cu128, "6.3" for rocm63. */
  backendVersion?: string;
  arch?: string;
  os?: string;
}

const BACKENDS: Array<[prefix: string, backend: string]> = [
  ['cu', 'cuda'],
  ['rocm', 'rocm'],
  ['xpu', 'xpu'],
  ['npu', 'npu'],
  ['neuron', 'neuron'],
];
const ARCHES = new Set(['x86_64', 'aarch64']);
const SYSTEMS = new Set(['linux', 'darwin', 'windows']);

/** Reads a variant name, or undefined when it does not follow the grammar. */
export function parseVariantName(name: string): VariantName | undefined {
  const universal = /^torch-([a-z]+)$/.exec(name);
  if (universal) return { name, backend: universal[1]! };
  // The architecture has an underscore, not a dash: x86_64 stays one token.
  const parts = name.split('-');
  const torch = /^torch(\d)(\d+)$/.exec(parts.shift() ?? '');
  if (!torch) return undefined;
  const variant: VariantName = { name, torch: `${torch[1]}.${torch[2]}`, backend: '' };
  if (parts[0] === 'cxx11' || parts[0] === 'cxx98') variant.cxxAbi = parts.shift() as 'cxx11' | 'cxx98';
  const compute = parts.shift() ?? '';
  if (compute === 'cpu' || compute === 'metal') variant.backend = compute;
  else {
    const match = BACKENDS.find(([prefix]) => compute.startsWith(prefix) && /^\d+$/.test(compute.slice(prefix.length)));
    if (!match) return undefined;
    const digits = compute.slice(match[0].length);
    variant.backend = match[1];
    variant.backendVersion = digits.length > 1 ? `${digits.slice(0, -1)}.${digits.slice(-1)}` : digits;
  }
  const [arch, os, ...rest] = parts;
  if (!arch || !ARCHES.has(arch) || !os || !SYSTEMS.has(os) || rest.length > 0) return undefined;
  return { ...variant, arch, os };
}

/**
 * The CUDA versions that can build for each GPU architecture (compute capability): the first,
 * and the last where a later one dropped it (CUDA 12.0 dropped 3.x, 13.0 dropped 5.x to 7.2 and
 * renamed 10.1 to 11.0). From NVIDIA's CUDA release notes; an architecture not listed here
 * (newer than this table, or written otherwise) tells nothing.
 */
const CUDA_ARCHES: Record<string, [since: string, until?: string]> = {
  '3.5': ['5.0', '11.8'],
  '3.7': ['5.0', '11.8'],
  ...Object.fromEntries(['5.0', '5.2', '5.3', '6.0', '6.1', '6.2', '7.0', '7.2'].map((arch) => [arch, ['6.0', '12.9']])),
  '7.5': ['10.0'],
  '8.0': ['11.0'],
  '8.6': ['11.1'],
  '8.7': ['11.4'],
  '8.9': ['11.8'],
  '9.0': ['11.8'],
  '10.0': ['12.8'],
  '10.1': ['12.8', '12.9'],
  '10.3': ['12.9'],
  '11.0': ['13.0'],
  '12.0': ['12.8'],
  '12.1': ['12.9'],
};

/**
 * Why the signed metadata is not for the variant `name` says, or undefined: each part of the name
 * the metadata also states must agree (docs/design.md section 2 states the backend, and for a GPU
 * backend the architectures built for). The backend: a CPU build under a CUDA name fails. Its
 * version: a CUDA 11.8 name over a build for architecture 10.0 (which only CUDA 12.8 and later
 * can build) fails. The torch version, C++ ABI, CPU architecture and system are not in the
 * metadata; the compiled files state the last two (build-target.ts).
 */
export function metadataMismatch(variant: VariantName, backend: { type: string; archs?: readonly string[] }): string | undefined {
  const named = variant.backend;
  const signed = backend.type === 'cann' ? 'npu' : backend.type;
  if (named === 'universal') return undefined;
  if (named !== signed) return `the directory is named as a ${named} variant, but the signed metadata is for backend ${backend.type}`;
  if (named !== 'cuda' || variant.backendVersion === undefined) return undefined;
  for (const arch of backend.archs ?? []) {
    const range = CUDA_ARCHES[/^(\d+\.\d+)[af]?(?:\+PTX)?$/.exec(arch)?.[1] ?? ''];
    if (range === undefined) continue;
    const [since, until] = range;
    if (compareVersions(variant.backendVersion, since) < 0 || (until !== undefined && compareVersions(variant.backendVersion, until) > 0)) {
      const versions = until === undefined ? `CUDA ${since} and later` : `CUDA ${since} to ${until}`;
      return `the directory is named as a CUDA ${variant.backendVersion} variant, but the signed metadata is for GPU architecture ${arch}, which only ${versions} can build for`;
    }
  }
  return undefined;
}

/** What a caller asks for; every field given must match. */
export interface VariantSelector {
  backend?: string;
  /** The newest variant whose backend version is at most this one (a newer driver runs older builds). */
  backendVersion?: string;
  torch?: string;
  cxxAbi?: 'cxx11' | 'cxx98';
  arch?: string;
  os?: string;
}

const versionParts = (version: string | undefined) => (version ?? '0').split('.').map(Number);
function compareVersions(a: string | undefined, b: string | undefined): number {
  const [x, y] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The variant of `names` that best fits `selector`: all given fields match (the backend version
 * at most the one asked for), then the newest backend version, then the newest torch; a
 * variant for one torch is preferred over a universal one. Undefined when none fits.
 */
export function selectVariant(names: readonly string[], selector: VariantSelector): string | undefined {
  const fits = fitting(names, selector);
  fits.sort(
    (a, b) =>
      Number(a.backend === 'universal') - Number(b.backend === 'universal') ||
      Number(a.torch === undefined) - Number(b.torch === undefined) ||
      compareVersions(b.backendVersion, a.backendVersion) ||
      compareVersions(b.torch, a.torch) ||
      (a.name < b.name ? -1 : 1),
  );
  return fits[0]?.name;
}

/**
 * The GPU backends (never `universal`) among the variants that fit `selector`. Without a backend
 * in the selector, more than one means the choice would be a guess: callers ask instead.
 */
export function backendsFitting(names: readonly string[], selector: VariantSelector): string[] {
  return [...new Set(fitting(names, selector).map((v) => v.backend).filter((backend) => backend !== 'universal'))].sort();
}

function fitting(names: readonly string[], selector: VariantSelector): VariantName[] {
  return names
    .map(parseVariantName)
    .filter((v): v is VariantName => v !== undefined)
    .filter(
      (v) =>
        (selector.backend === undefined || v.backend === selector.backend || v.backend === 'universal') &&
        (selector.backendVersion === undefined || v.backendVersion === undefined || compareVersions(v.backendVersion, selector.backendVersion) <= 0) &&
        (selector.torch === undefined || v.torch === undefined || v.torch === selector.torch) &&
        (selector.cxxAbi === undefined || v.cxxAbi === undefined || v.cxxAbi === selector.cxxAbi) &&
        (selector.arch === undefined || v.arch === undefined || v.arch === selector.arch) &&
        (selector.os === undefined || v.os === undefined || v.os === selector.os),
    );
}
