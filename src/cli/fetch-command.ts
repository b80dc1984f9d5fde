import { getKernel, isRepoId, KernelRefusedError } from './library/verifying.js';
import { HUB_HELP, HUB_OPTIONS, hubOptionsFrom, label, withProgress } from './hub-options.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { TRUST_ALIASES, TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustGiven, trustedRootsFrom } from './trust-options.js';
import { PUBLISHER_HELP, PUBLISHER_OPTIONS, publisherAnchorFrom } from './publisher-options.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';

export const fetchCommand: Command = {
  name: 'fetch',
  help: `Usage: kernelseal fetch <repo-id> [--version N | --revision REV] [--variant NAME | selector] [options]

Fetches one variant of a kernel (build/<variant>/**, no *.pyc) into the Hugging Face cache with
resumed, parallel, size- and content-checked downloads, verifies it, and prints the path of the
verified variant on stdout (status on stderr). Nothing that does not verify is handed back.
A receipt lets a later fetch of the same unchanged files skip re-hashing.

${HUB_HELP}

${TRUST_HELP}

${PUBLISHER_HELP.replace(/\n {6}--repo org\/name[^\n]*\n[^\n]*\n/, '\n')}

${OUTPUT_HELP}

Examples:
  kernelseal fetch kernels-community/relu --version 1 --backend cuda --backend-version 12.8
  cd "$(kernelseal fetch kernels-community/relu --version 1 --variant torch210-cxx11-cpu-x86_64-linux)"

Exit status: 0 fetched and verified, 1 refused or failed, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { ...TRUST_OPTIONS, ...HUB_OPTIONS, publishers: PUBLISHER_OPTIONS.publishers, 'publishers-root': PUBLISHER_OPTIONS['publishers-root'], ...OUTPUT_OPTIONS }, TRUST_ALIASES);
    if (positionals.length !== 1) throw new UsageError('expected exactly one repository id');
    const repoId = positionals[0]!;
    // Checked before anything else, the network included: `relu` alone names no repository.
    if (!isRepoId(repoId)) throw new UsageError(`${JSON.stringify(repoId)} is not a repository id: write org/name (e.g. kernels-community/${/^[\w.-]+$/.test(repoId) ? repoId : 'relu'})`);
    const options = await hubOptionsFrom(repoId, values);
    // A list (flags or KERNELSEAL_PUBLISHERS) decides alone: never the default policy beside it.
    const listed = await publisherAnchorFrom(values, repoId, (message) => process.stderr.write(`kernelseal: warning: ${message}\n`), options.lock?.publisherList);
    const anchor = listed ?? (await trustAnchorFrom(values, 'kernels-community'));
    // No trust flag: the library's default (kernels-community's policy, after the Hub's trustedKernelPublisher flag).
    const given = listed || trustGiven(values) ? anchor : {};
    const trustedRoot = await trustedRootsFrom(values);
    const output = new Output(this.name, values);
    try {
      const { value: kernel, checked } = await withProgress(repoId, output, (progress) => getKernel(repoId, { ...options, ...given, trustedRoot, ...progress }));
      output.add({ kind: 'fetched', subject: label(kernel), kernel, checked: checked(kernel) });
    } catch (error) {
      if (!(error instanceof KernelRefusedError) || !error.result || !error.kernel) throw error;
      output.add({ kind: 'fetch-refused', subject: label(error.kernel), result: error.result, reason: error.message });
    }
    return output.finish();
  },
};
