import { readBounded, BundleError, parseBundle, SignatureVerificationError, verifyBundle, MAX_BUNDLE_BYTES } from './library/verifying.js';
import { DIGEST, readArtifact } from './artifact-operand.js';
import { printable } from './format.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { ProgressBar } from './progress-bar.js';
import type { BundleOutcome } from './render-result.js';
import { TRUST_ALIASES, TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustedRootsFrom } from './trust-options.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';

export const verifyBundleCommand: Command = {
  name: 'verify-bundle',
  help: `Usage: kernelseal verify-bundle [--bundle FILE] (--certificate-identity ID --certificate-oidc-issuer URL | --key PEM | --policy NAME|FILE) [--trusted-root FILE] [--offline] [--json] FILE_OR_DIGEST

Verifies a Sigstore bundle (v0.1 to v0.3; message signature or DSSE; Rekor v1 or v2 entries;
RFC 3161 timestamps) over an artifact given as a path or as sha256:<hex> (or sha384:, sha512:). For a DSSE bundle,
an in-toto subject must carry the artifact's sha256. Follows the sigstore-conformance client
protocol. There is no default policy: say who is trusted.

  -b, --bundle FILE                 the Sigstore bundle (JSON); default <artifact>.sigstore.json,
                                    where sign-blob writes it

${TRUST_HELP}

${OUTPUT_HELP}

Examples:
  kernelseal verify-bundle --bundle model.onnx.sigstore.json model.onnx \\
      --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1 \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  kernelseal verify-bundle --bundle a.sigstore.json --key cosign.pub sha256:9f86d0...

Exit status: 0 verified, 1 not verified (or no bundle where sign-blob writes it), 2 usage
error or a file named on the command line that cannot be read.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(
      args,
      {
        ...TRUST_OPTIONS,
        bundle: { type: 'string', short: 'b' },
        ...OUTPUT_OPTIONS,
      },
      TRUST_ALIASES,
    );
    if (positionals.length !== 1) throw new UsageError('expected exactly one artifact (a path or sha256:<hex>)');
    const subject = positionals[0]!;
    // Where sign-blob writes it, by default: <artifact>.sigstore.json.
    if (values.bundle === undefined && DIGEST.test(subject)) throw new UsageError('--bundle is required for an artifact given by its digest');
    const bundlePath = values.bundle ?? `${subject}.sigstore.json`;
    const anchor = await trustAnchorFrom(values);
    const trustedRoot = await trustedRootsFrom(values);
    const output = new Output(this.name, values);
    const bar = new ProgressBar(`hashing ${printable(subject)}`, output);
    const { artifact, checked } = await readArtifact(subject, (p) => bar.update(p)).finally(() => bar.clear());
    // The bundle limit and FIFO-safe reader verify uses for metadata.json.sigstore.
    const bundle = await readBounded(bundlePath, MAX_BUNDLE_BYTES);
    let outcome: BundleOutcome;
    if ('missing' in bundle) {
      // A bundle named on the command line must be there; the default one is a signature not found.
      if (values.bundle !== undefined) throw new UsageError(`--bundle ${bundlePath}: no such file`);
      outcome = { status: 'signature-missing', reason: `signature not found: no ${bundlePath} (name the bundle with --bundle)` };
    } else {
      try {
        if (!('bytes' in bundle)) throw new BundleError(bundle.error);
        outcome = { status: 'verified', signer: verifyBundle(parseBundle(bundle.bytes), artifact, trustedRoot, anchor) };
      } catch (error) {
        if (!(error instanceof SignatureVerificationError || error instanceof BundleError)) throw error;
        outcome = error instanceof BundleError ? { status: 'bundle-invalid', reason: `invalid signature bundle: ${error.message}` } : { status: 'signature-invalid', reason: error.message };
      }
    }
    output.add({ kind: 'bundle', subject, bundle: bundlePath, outcome, checked: outcome.status === 'verified' ? checked : undefined });
    return output.finish();
  },
};
