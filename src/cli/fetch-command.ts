import { getKernel } from '../kernels/hub/get-kernel.js';
import { KernelRefusedError } from '../kernels/hub/load-outcome.js';
import { HUB_HELP, HUB_OPTIONS, hubOptionsFrom, label, withProgress } from './hub-options.js';
import { describeSigner, renderResult } from './render-result.js';
import { TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustedRootFrom } from './trust-options.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandLine, type Command } from './usage.js';

export const fetchCommand: Command = {
  name: 'fetch',
  summary: 'fetch a kernel from the Hub, verify it, and print where it is',
  help: `Usage: kernelseal fetch <repo-id> [--version N | --revision REV] [--variant NAME | selector] [options]

Fetches one variant of a kernel (build/<variant>/**, no *.pyc) into the Hugging Face cache with
resumed, parallel, size- and content-checked downloads, verifies it, and prints the path of the
verified variant on stdout (status on stderr). Nothing that does not verify is handed back.
A receipt lets a later fetch of the same unchanged files skip re-hashing.

${HUB_HELP}

${TRUST_HELP}

      --json                        print the result as JSON

Examples:
  kernelseal fetch kernels-community/relu --version 1 --backend cuda --backend-version 12.8
  cd "$(kernelseal fetch kernels-community/relu --version 1 --variant torch210-cxx11-cpu-x86_64-linux)"

Exit status: 0 fetched and verified, 1 refused or failed, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { ...TRUST_OPTIONS, ...HUB_OPTIONS, json: { type: 'boolean', default: false } });
    if (positionals.length !== 1) throw new UsageError('expected exactly one repository id');
    const repoId = positionals[0]!;
    const options = await hubOptionsFrom(repoId, values);
    const anchor = await trustAnchorFrom(values, 'kernels-community');
    const trustedRoot = await trustedRootFrom(values);
    try {
      const kernel = await withProgress(repoId, (progress) => getKernel(repoId, { ...options, ...anchor, trustedRoot, ...progress }));
      const status = kernel.verified ? `✅ ${label(kernel)}: kernel metadata is correctly signed\n   ${describeSigner(kernel.signer!)}` : `⚠️  ${label(kernel)}: NOT SIGNED, taken because of --allow-unsigned`;
      process.stderr.write(`${status}${kernel.fromReceipt ? '\n   (files unchanged since last verified: not re-hashed)' : ''}\n`);
      const json = { ...kernel, digest: kernel.digest && { algorithm: kernel.digest.algorithm, files: kernel.digest.files.size } };
      process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${kernel.path}\n`);
      return EXIT_OK;
    } catch (error) {
      if (!(error instanceof KernelRefusedError) || !error.result || !error.kernel) throw error;
      process.stderr.write(`${renderResult({ ...error.result, path: label(error.kernel) })}\n`);
      if (values.json) process.stdout.write(`${JSON.stringify({ repoId, ok: false, status: error.result.status, reason: error.message })}\n`);
      return EXIT_FAILURE;
    }
  },
};
