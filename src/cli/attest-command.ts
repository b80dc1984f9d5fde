import { attest, ProvenanceEnvironmentError, instanceForThisJob, SigningError, IdentityTokenError } from './library/signing.js';
import { readStrictJSONFile, bundleSigner, parseBundle } from './library/verifying.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from './output.js';
import { SIGNER_OPTIONS, signerFrom } from './signer-options.js';
import { UsageError, parseCommandLine, type Command } from './usage.js';

export const attestCommand: Command = {
  name: 'attest',
  help: `Usage: kernelseal attest <artifact>... [--output FILE.jsonl] [--predicate-type URI --predicate FILE] [options]

In GitHub Actions, makes SLSA provenance v1 for this job in the shape of GitHub's own
build-provenance action (workflow, commit, runner, run), one statement with every artifact as a
subject, signs it keylessly with the job's OIDC token ("permissions: id-token: write") as a
DSSE bundle v0.3 logged in Rekor, and writes <artifact>.intoto.sigstore.json next to each
artifact. 'kernelseal verify-attestation' and 'gh attestation verify --bundle' check it.
Outside GitHub Actions it refuses, naming the missing environment.

  -o, --output FILE                 write the bundle as JSON Lines to FILE instead
      --predicate-type URI          with --predicate: sign this predicate instead of provenance
      --predicate FILE              the predicate (JSON)
      --identity-token TOKEN        the OIDC token (default: SIGSTORE_ID_TOKEN, or GitHub's)
      --sigstore public-good|github the instance (default, as actions/attest: public-good
                                    when the event says the repository is public, else
                                    GitHub's own, which logs nothing publicly)
      --signing-config FILE         a Sigstore signing_config.json (v0.2)
      --fulcio-url URL, --rekor-url URL, --rekor-version 1|2, --tsa-url URL
                                    the Sigstore services (default: the instance's)
      --timeout DURATION            the longest wait on each service (30s)

${OUTPUT_HELP}

Examples:
  kernelseal attest dist/*.whl dist/*.tar.gz
  kernelseal verify-attestation dist/pkg-1.0.tar.gz --bundle dist/pkg-1.0.tar.gz.intoto.sigstore.json --repo org/pkg

Exit status: 0 signed and written, 1 not, 2 usage error.`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      'identity-token': SIGNER_OPTIONS['identity-token'],
      'signing-config': SIGNER_OPTIONS['signing-config'],
      sigstore: SIGNER_OPTIONS.sigstore,
      'fulcio-url': SIGNER_OPTIONS['fulcio-url'],
      'rekor-url': SIGNER_OPTIONS['rekor-url'],
      'rekor-version': SIGNER_OPTIONS['rekor-version'],
      'tsa-url': SIGNER_OPTIONS['tsa-url'],
      timeout: SIGNER_OPTIONS.timeout,
      output: { type: 'string', short: 'o' },
      'predicate-type': { type: 'string' },
      predicate: { type: 'string' },
      ...OUTPUT_OPTIONS,
    });
    if (positionals.length === 0) throw new UsageError('expected at least one artifact to attest');
    if ((values['predicate-type'] === undefined) !== (values.predicate === undefined)) throw new UsageError('--predicate-type and --predicate go together');
    const predicate = values.predicate === undefined ? undefined : { type: values['predicate-type']!, value: await readPredicate(values.predicate) };
    // As actions/attest: public-good only for a repository the event says is public.
    const signer = await signerFrom(values, instanceForThisJob(process.env));
    if (signer.method !== 'keyless') throw new UsageError('attestations are signed keylessly');
    const output = new Output(this.name, values);
    try {
      const { statement, bundle, written } = await attest({ artifacts: positionals, signer, predicate, output: values.output });
      const who = bundleSigner(parseBundle(JSON.stringify(bundle)));
      output.add({ kind: 'attested', subject: positionals.join(' '), predicateType: statement.predicateType, subjects: statement.subject, signer: who, written });
    } catch (error) {
      if (!(error instanceof SigningError || error instanceof ProvenanceEnvironmentError || error instanceof IdentityTokenError)) throw error;
      output.add({ kind: 'not-attested', subject: positionals.join(' '), reason: error.message });
    }
    return output.finish();
  },
};

/** The largest predicate read: SLSA provenance is a few kB. */
const MAX_PREDICATE_BYTES = 16 * 1024 * 1024;

function readPredicate(path: string): Promise<unknown> {
  return readStrictJSONFile(path, MAX_PREDICATE_BYTES, (message) => new UsageError(`--predicate ${message}`));
}
