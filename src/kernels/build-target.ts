import { join } from 'node:path';
import { readHead } from '../fs/read-bounded.js';
import type { VariantName } from './variant-name.js';

/**
 * The CPU architecture and system a variant's compiled files were built for, read from their
 * headers: the part of a variant's name (`…-x86_64-linux`) that its signed metadata does not
 * state, but its signed shared objects do. A loader picks a variant by its name; a signed
 * aarch64 build placed under an x86_64 name must not verify as that variant.
 */
export interface BuildTarget {
  arch: string;
  os: string;
}

/** Files Python or dlopen load as native code: extension modules and shared libraries. */
const SHARED_OBJECT = /\.(?:so(?:\.\d+)*|pyd|dll|dylib)$/;

/** Enough of a file for every header read here (a PE header usually starts within 0x200). */
const HEAD_BYTES = 4096;

const ELF_MACHINES = new Map([
  [62, 'x86_64'],
  [183, 'aarch64'],
]);
/** ELF machines of GPU code (CUDA, AMD GPU): device code, not what the CPU loads. */
const ELF_DEVICE_MACHINES = new Set([190, 224]);
const MACHO_CPUS = new Map([
  [0x01000007, 'x86_64'],
  [0x0100000c, 'aarch64'],
]);
const PE_MACHINES = new Map([
  [0x8664, 'x86_64'],
  [0xaa64, 'aarch64'],
]);

/**
 * What a file's first bytes say it was built for: the targets (a universal Mach-O holds
 * several), `device` for GPU code, undefined for anything not an ELF, Mach-O or PE header.
 */
export function buildTargets(head: Uint8Array): BuildTarget[] | 'device' | undefined {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (bytes.length >= 20 && bytes.readUInt32BE(0) === 0x7f454c46) {
    const machine = bytes[5] === 2 ? bytes.readUInt16BE(18) : bytes.readUInt16LE(18);
    if (ELF_DEVICE_MACHINES.has(machine)) return 'device';
    return [{ arch: ELF_MACHINES.get(machine) ?? `ELF machine ${machine}`, os: 'linux' }];
  }
  if (bytes.length >= 8 && (bytes.readUInt32LE(0) === 0xfeedfacf || bytes.readUInt32LE(0) === 0xfeedface)) {
    const cpu = bytes.readUInt32LE(4);
    return [{ arch: MACHO_CPUS.get(cpu) ?? `Mach-O CPU type ${cpu}`, os: 'darwin' }];
  }
  // A universal Mach-O: 0xcafebabe, then each architecture's CPU type (20 bytes apiece). Java
  // class files share the magic, with a version of 45 or more where the count would be.
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0xcafebabe && bytes.readUInt32BE(4) > 0 && bytes.readUInt32BE(4) < 45) {
    const count = bytes.readUInt32BE(4);
    if (bytes.length < 8 + count * 20) return undefined;
    return Array.from({ length: count }, (_, i) => {
      const cpu = bytes.readUInt32BE(8 + i * 20);
      return { arch: MACHO_CPUS.get(cpu) ?? `Mach-O CPU type ${cpu}`, os: 'darwin' };
    });
  }
  if (bytes.length >= 64 && bytes.toString('latin1', 0, 2) === 'MZ') {
    const at = bytes.readUInt32LE(0x3c);
    if (at + 6 > bytes.length || bytes.toString('latin1', at, at + 4) !== 'PE\0\0') return undefined;
    const machine = bytes.readUInt16LE(at + 4);
    return [{ arch: PE_MACHINES.get(machine) ?? `PE machine 0x${machine.toString(16)}`, os: 'windows' }];
  }
  return undefined;
}

/**
 * Why the shared objects among `keys` (files of the variant in `dir`, already verified against
 * the signed digest) were not built for the CPU architecture and system `variant` names (or
 * could not be read again), or undefined. Files whose header is none of ELF, Mach-O or PE state nothing; GPU code is skipped.
 * A name without an architecture (torch-universal, torch-cuda) is not checked.
 */
export async function buildTargetMismatch(dir: string, keys: Iterable<string>, variant: VariantName): Promise<{ reason: string; unreadable?: true } | undefined> {
  const { arch, os } = variant;
  if (arch === undefined || os === undefined) return undefined;
  for (const key of [...keys].filter((k) => SHARED_OBJECT.test(k)).sort()) {
    const head = await readHead(join(dir, key), HEAD_BYTES);
    // Hashed a moment ago, unreadable now: changed underneath, as a file changing while hashed.
    if ('error' in head) return { reason: head.error, unreadable: true };
    const targets = buildTargets(head.bytes);
    if (targets === undefined || targets === 'device') continue;
    if (!targets.some((target) => target.arch === arch && target.os === os)) {
      const built = targets.map((target) => `${target.arch}-${target.os}`).join(', ');
      return { reason: `the directory is named as an ${arch}-${os} variant, but the signed ${key} is built for ${built}` };
    }
  }
  return undefined;
}
