import { verifyVariant } from '../verify/verify-variant.js';
import type { VerificationResult } from '../verify/result.js';
import { renderResult, resultToJSON } from './render-result.js';
import { expandKernel } from './variants.js';
import { TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustedRootFrom } from './trust-options.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandLine, type Command } from './usage.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify kernel variants: signature, signer policy, and every file',
  help: `Usage: kernelseal verify <variant-dir | kernel-dir>... [options]

For each variant: checks the Sigstore bundle metadata.json.sigstore over the raw bytes of
metadata.json, checks that the signer is trusted, then re-hashes every file and compares it
with the signed digest. A kernel directory (one with build/) stands for all its variants.
By default only builds of huggingface/kernels-community are trusted (--policy
kernels-community).

${TRUST_HELP}

Output:
      --json                        print an array of results (status, signer, violations)

Examples:
  kernelseal verify build/torch210-cxx11-cu128-x86_64-linux
  kernelseal verify my-kernel/ --policy my-policy.json
  kernelseal verify build/torch-cpu --certificate-identity-regexp \\
      'https://github.com/my-org/my-kernel/\\.github/workflows/build\\.yaml@refs/heads/.*' \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  kernelseal verify build/torch-cpu --key signing-key.pub --offline

Exit status: 0 every variant verified, 1 any did not, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { ...TRUST_OPTIONS, json: { type: 'boolean', default: false } });
    if (positionals.length === 0) throw new UsageError('expected at least one variant directory');
    const variants = positionals.flatMap(expandKernel);
    const anchor = await trustAnchorFrom(values, 'kernels-community');
    const trustedRoot = await trustedRootFrom(values);
    const results: VerificationResult[] = [];
    for (const path of variants) {
      const result = await verifyVariant(path, { ...anchor, trustedRoot });
      results.push(result);
      if (!values.json) process.stdout.write(`${renderResult(result)}\n`);
    }
    if (values.json) process.stdout.write(`${JSON.stringify(results.map(resultToJSON), null, 2)}\n`);
    return results.every((result) => result.status === 'verified') ? EXIT_OK : EXIT_FAILURE;
  },
};
