import { existsSync } from 'node:fs';
import { arch, platform } from 'node:os';
import type { VariantSelector } from '../variant-name.js';

/**
 * The variant selector for this machine: its OS and CPU, and the backend only where it can be
 * known for sure. A Linux machine where no NVIDIA driver (/proc/driver/nvidia/version) and no
 * ROCm device (/dev/kfd) is visible runs the `cpu` build; anywhere else the GPU backend and its
 * version are the caller's to say (getKernel refuses to guess between several).
 */
export function thisMachine(): VariantSelector {
  const os = platform() === 'win32' ? 'windows' : platform();
  const cpu = arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch();
  const noGpu = os === 'linux' && !existsSync('/proc/driver/nvidia/version') && !existsSync('/dev/kfd');
  return { os, arch: cpu, ...(noGpu ? { backend: 'cpu' } : {}) };
}
