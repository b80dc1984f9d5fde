import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyCubin, pseudoRandomBytes, tempDir, writeTree } from './fs.js';

export const KERNEL_METADATA = {
  name: 'relu',
  id: '_relu_cuda_6a1b2c3',
  version: 1,
  license: 'Apache-2.0',
  'python-depends': ['torch'],
  backend: { type: 'cuda', archs: ['8.0', '9.0'] },
};

let template: string | undefined;

/**
 * A fresh, unsigned CUDA kernel variant: Python glue, a shared object, a real nvcc-built
 * .cubin, a nested module, and metadata.json without a digest. Built once, copied per call.
 * `name` is the kernel's name in metadata.json: a kernel fetched from the Hub must be named as
 * its repository is (src/kernels/hub/get-kernel.ts).
 */
export function unsignedVariant(name = KERNEL_METADATA.name): string {
  if (!template) {
    template = join(tempDir('kernelseal-variant-template-'), 'torch210-cxx11-cu128-x86_64-linux');
    writeTree(template, {
      '__init__.py': 'from ._ops import ops\nfrom .layers import ReLU\n',
      '_ops.py': 'import torch\nops = torch.ops._relu_cuda_6a1b2c3\n',
      'layers.py': 'class ReLU:\n    pass\n',
      '_relu_cuda_6a1b2c3.abi3.so': pseudoRandomBytes(256 * 1024, 3),
      'relu/__init__.py': '# nested\n',
      'metadata.json': JSON.stringify(KERNEL_METADATA, null, 2),
    });
    mkdirSync(join(template, 'kernels'));
    copyCubin(join(template, 'kernels'), 'relu_sm80.cubin');
  }
  const dir = join(tempDir('kernelseal-variant-'), 'torch210-cxx11-cu128-x86_64-linux');
  cpSync(template, dir, { recursive: true });
  if (name !== KERNEL_METADATA.name) writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...KERNEL_METADATA, name }, null, 2));
  return dir;
}

export const readJSON = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
