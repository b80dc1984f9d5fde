import { VERSION } from './library/version.js';
import { closest } from './closest.js';
import { printable, printableLines } from './format.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, HelpRequested, UsageError, inUserSpelling, type Command } from './usage.js';

/**
 * A command as the main help lists it; its module is imported only when it runs (or prints its
 * help), so that `kernelseal --version` and each command load only what they use: Node starts in
 * about 30 ms, and importing every command (the Sigstore, TUF and HTTP libraries) took ten times that.
 */
interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

const commands: CommandEntry[] = [
  { name: 'verify', summary: 'verify kernel variants, local or on the Hub: signature, signer policy, every file', load: async () => (await import('./verify-command.js')).verifyCommand },
  { name: 'verify-bundle', summary: 'verify a Sigstore bundle over any artifact (a wheel, a model file, ...)', load: async () => (await import('./verify-bundle-command.js')).verifyBundleCommand },
  { name: 'verify-attestation', summary: 'verify build provenance and other attestations (GitHub, PyPI, npm) over an artifact', load: async () => (await import('./verify-attestation-command.js')).verifyAttestationCommand },
  { name: 'verify-release', summary: "verify a GitHub release's attestation, and its assets (gh release verify, verify-asset)", load: async () => (await import('./verify-release-command.js')).verifyReleaseCommand },
  { name: 'fetch', summary: 'fetch a kernel from the Hub, verify it, and print where it is', load: async () => (await import('./fetch-command.js')).fetchCommand },
  { name: 'lock', summary: "pin kernels in a kernels.lock: the commit, each variant's hash, and who signed them", load: async () => (await import('./lock-command.js')).lockCommand },
  { name: 'sign', summary: 'sign kernel variants: write the digest into metadata.json and sign it', load: async () => (await import('./sign-command.js')).signCommand },
  { name: 'sign-blob', summary: 'sign any artifact (a wheel, an .onnx file, ...) into a Sigstore bundle', load: async () => (await import('./sign-blob-command.js')).signBlobCommand },
  { name: 'verify-model', summary: 'verify a model signed with OpenSSF Model Signing (model_signing, OMS v1.0)', load: async () => (await import('./verify-model-command.js')).verifyModelCommand },
  { name: 'sign-model', summary: 'sign a model directory or file in the OpenSSF Model Signing format', load: async () => (await import('./sign-model-command.js')).signModelCommand },
  { name: 'attest', summary: 'sign SLSA build provenance for release artifacts in GitHub Actions', load: async () => (await import('./attest-command.js')).attestCommand },
  { name: 'digest', summary: 'hash every file of a kernel variant (the metadata.json digest)', load: async () => (await import('./digest-command.js')).digestCommand },
  { name: 'bench', summary: 'measure digest throughput: native, pure, a naive stream, against the compute limit', load: async () => (await import('./bench-command.js')).benchCommand },
  { name: 'publishers', summary: 'trusted publisher lists: show one; make, edit, sign and check your own', load: async () => (await import('./publishers-command.js')).publishersCommand },
];

/** The names people already type for our commands: the kernels CLI's, cosign's. */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['verify-signature', 'verify'],
  ['verify-blob', 'verify-bundle'],
]);

function mainHelp(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return `kernelseal ${VERSION}: are these exact files what a publisher I trust built?

Usage: kernelseal <command> [options]

Commands:
${commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Also: verify-signature (as the kernels CLI names it) = verify; verify-blob (cosign) = verify-bundle.
Run 'kernelseal <command> --help' for a command's options and examples.
'kernelseal --version' prints the version and the digest backend in use.`;
}

async function versionText(): Promise<string> {
  const { digestBackend, nativeUnavailableReason } = await import('./library/backend.js');
  const backend = digestBackend().name;
  const reason = nativeUnavailableReason();
  return `kernelseal ${VERSION} (node ${process.version}, digest backend: ${backend}${reason ? `; native unavailable: ${reason.split('\n')[0]}` : ''})`;
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? commands.find((command) => command.name === args[0]) : undefined;
    process.stdout.write(`${topic ? (await topic.load()).help : mainHelp()}\n`);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '-V' || name === '--version') {
    try {
      process.stdout.write(`${await versionText()}\n`);
      return EXIT_OK;
    } catch (error) {
      return failed('kernelseal', [], error);
    }
  }
  const entry = commands.find((candidate) => candidate.name === (ALIASES.get(name) ?? name));
  if (!entry) {
    const guess = closest(name, [...commands.map((candidate) => candidate.name), ...ALIASES.keys()]);
    const hint = guess ? `kernelseal: unknown command '${printable(name)}': did you mean '${guess}'?` : `kernelseal: unknown command '${printable(name)}'`;
    process.stderr.write(`${hint}\n\n${mainHelp()}\n`);
    const { failCommand } = await import('./output.js');
    failCommand(name, args, EXIT_USAGE, { code: 'USAGE', message: hint.replace(/^kernelseal: /, '') });
    return EXIT_USAGE;
  }
  const command = await entry.load();
  try {
    // Help only when asked for as an option: the command parses its whole line first, so
    // `--bundle -h` is a bundle named -h (or a usage error), never help and exit 0.
    return await command.run(args);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(`${command.help}\n`);
      return EXIT_OK;
    }
    return failed(command.name, args, error);
  }
}

/**
 * Reports an error that stopped a command (on stderr, and with --json as JSON on stdout) and
 * returns its exit code: 2 for a usage error (the command line, or an input it names that
 * cannot be read, or the environment: a bad KERNELSEAL_DIGEST_BACKEND), 1 otherwise.
 */
async function failed(name: string, args: string[], error: unknown): Promise<number> {
  // Imported here, as the commands are: a start that fails nothing loads neither.
  const [{ failCommand }, { DigestBackendChoiceError }] = await Promise.all([import('./output.js'), import('./library/backend.js')]);
  const usage = error instanceof UsageError || error instanceof DigestBackendChoiceError;
  const message = inUserSpelling(error instanceof Error ? error.message : String(error));
  const code = usage ? EXIT_USAGE : EXIT_FAILURE;
  const pointer = error instanceof UsageError ? `\nRun 'kernelseal ${name === 'kernelseal' ? '' : `${name} `}--help' for usage.` : '';
  process.stderr.write(`${name === 'kernelseal' ? 'kernelseal' : `kernelseal ${name}`}: ${printableLines(message)}${pointer}\n`);
  const errorCode = error instanceof UsageError ? 'USAGE' : typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'ERROR';
  failCommand(name, args, code, { code: errorCode, message });
  return code;
}
