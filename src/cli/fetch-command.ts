import { getKernel, KernelRefusedError } from '../kernels/hub/get-kernel.js';
import { HUB_HELP, HUB_OPTIONS, REPO_ID, hubOptionsFrom, label, withProgress } from './hub-options.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { TRUST_ALIASES, TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustGiven, trustedRootFrom } from './trust-options.js';
import { refuseListFromEnv } from './publisher-options.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';

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

${OUTPUT_HELP}

Examples:
  kernelseal fetch kernels-community/relu --version 1 --backend cuda --backend-version 12.8
  cd "$(kernelseal fetch kernels-community/relu --version 1 --variant torch210-cxx11-cpu-x86_64-linux)"

Exit status: 0 fetched and verified, 1 refused or failed, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { ...TRUST_OPTIONS, ...HUB_OPTIONS, ...OUTPUT_OPTIONS }, TRUST_ALIASES);
    if (positionals.length !== 1) throw new UsageError('expected exactly one repository id');
    const repoId = positionals[0]!;
    // Checked before anything else, the network included: `relu` alone names no repository.
    if (!REPO_ID.test(repoId)) throw new UsageError(`${JSON.stringify(repoId)} is not a repository id: write org/name (e.g. kernels-community/${/^[\w.-]+$/.test(repoId) ? repoId : 'relu'})`);
    refuseListFromEnv('fetch');
    const options = await hubOptionsFrom(repoId, values);
    const anchor = await trustAnchorFrom(values, 'kernels-community');
    const trustedRoot = await trustedRootFrom(values);
    const output = new Output(this.name, values);
    try {
      const { value: kernel, checked } = await withProgress(repoId, output, (progress) => getKernel(repoId, { ...options, ...(trustGiven(values) ? anchor : {}), trustedRoot, ...progress }));
      output.add({ kind: 'fetched', subject: label(kernel), kernel, checked: checked(kernel) });
    } catch (error) {
      if (!(error instanceof KernelRefusedError) || !error.result || !error.kernel) throw error;
      output.add({ kind: 'fetch-refused', subject: label(error.kernel), result: error.result, reason: error.message });
    }
    return output.finish();
  },
};
