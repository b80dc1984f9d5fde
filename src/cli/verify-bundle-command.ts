import { readBounded } from '../fs/read-bounded.js';
import { BundleError, parseBundle } from '../sigstore/bundle.js';
import { SignatureVerificationError, verifyBundle } from '../sigstore/verify-bundle.js';
import { MAX_BUNDLE_BYTES } from '../kernels/verify-variant.js';
import { DIGEST, readArtifact } from './artifact-operand.js';
import { describeSigner } from './render-result.js';
import { TRUST_HELP, TRUST_OPTIONS, trustAnchorFrom, trustedRootFrom } from './trust-options.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandLine, type Command } from './usage.js';

/** `sha256:<hex>` (the conformance protocol), also sha384 and sha512. */

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

      --json                        print the result as JSON

Examples:
  kernelseal verify-bundle --bundle model.onnx.sigstore.json model.onnx \\
      --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1 \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  kernelseal verify-bundle --bundle a.sigstore.json --key cosign.pub sha256:9f86d0...

Exit status: 0 verified, 1 not verified, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      ...TRUST_OPTIONS,
      bundle: { type: 'string', short: 'b' },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length !== 1) throw new UsageError('expected exactly one artifact (a path or sha256:<hex>)');
    const subject = positionals[0]!;
    // Where sign-blob writes it, by default: <artifact>.sigstore.json.
    if (values.bundle === undefined && DIGEST.test(subject)) throw new UsageError('--bundle is required for an artifact given by its digest');
    const bundlePath = values.bundle ?? `${subject}.sigstore.json`;
    const anchor = await trustAnchorFrom(values);
    const trustedRoot = await trustedRootFrom(values);
    const report = (ok: boolean, detail: Record<string, unknown>, line: string) => {
      process.stdout.write(values.json ? `${JSON.stringify({ artifact: subject, ok, ...detail })}\n` : `${line}\n`);
      return ok ? EXIT_OK : EXIT_FAILURE;
    };
    try {
      const artifact = await readArtifact(subject);
      // The bundle limit and FIFO-safe reader verify uses for metadata.json.sigstore.
      const bundle = await readBounded(bundlePath, MAX_BUNDLE_BYTES);
      if (!('bytes' in bundle)) throw new BundleError('error' in bundle ? bundle.error : `cannot read ${bundlePath}: no such file`);
      const signer = verifyBundle(parseBundle(bundle.bytes), artifact, trustedRoot, anchor);
      return report(true, { signer }, `✅ ${subject}: signature verified\n   ${describeSigner(signer)}`);
    } catch (error) {
      if (!(error instanceof SignatureVerificationError || error instanceof BundleError)) throw error;
      const reason = error instanceof BundleError ? `invalid signature bundle: ${error.message}` : error.message;
      return report(false, { reason }, `❌ ${subject}: ${reason}`);
    }
  },
};
