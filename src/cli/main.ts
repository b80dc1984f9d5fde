import { VERSION } from '../version.js';
import { printable } from './format.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type Command } from './usage.js';

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
  { name: 'fetch', summary: 'fetch a kernel from the Hub, verify it, and print where it is', load: async () => (await import('./fetch-command.js')).fetchCommand },
  { name: 'sign', summary: 'sign kernel variants: write the digest into metadata.json and sign it', load: async () => (await import('./sign-command.js')).signCommand },
  { name: 'sign-blob', summary: 'sign any artifact (a wheel, an .onnx file, ...) into a Sigstore bundle', load: async () => (await import('./sign-blob-command.js')).signBlobCommand },
  { name: 'verify-model', summary: 'verify a model signed with OpenSSF Model Signing (model_signing, OMS v1.0)', load: async () => (await import('./verify-model-command.js')).verifyModelCommand },
  { name: 'sign-model', summary: 'sign a model directory or file in the OpenSSF Model Signing format', load: async () => (await import('./sign-model-command.js')).signModelCommand },
  { name: 'attest', summary: 'sign SLSA build provenance for release artifacts in GitHub Actions', load: async () => (await import('./attest-command.js')).attestCommand },
  { name: 'digest', summary: 'hash every file of a kernel variant (the metadata.json digest)', load: async () => (await import('./digest-command.js')).digestCommand },
  { name: 'bench', summary: 'measure digest throughput: native, pure, a naive stream, against the compute limit', load: async () => (await import('./bench-command.js')).benchCommand },
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
  const { digestBackend, nativeUnavailableReason } = await import('../hashing/select-backend.js');
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
    process.stdout.write(`${await versionText()}\n`);
    return EXIT_OK;
  }
  const entry = commands.find((candidate) => candidate.name === (ALIASES.get(name) ?? name));
  if (!entry) {
    const guess = closest(name, [...commands.map((candidate) => candidate.name), ...ALIASES.keys()]);
    const hint = guess ? `kernelseal: unknown command '${printable(name)}': did you mean '${guess}'?` : `kernelseal: unknown command '${printable(name)}'`;
    process.stderr.write(`${hint}\n\n${mainHelp()}\n`);
    return EXIT_USAGE;
  }
  const command = await entry.load();
  // After `--` everything is an operand: a file named -h is a file.
  const options = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (options.includes('-h') || options.includes('--help')) {
    process.stdout.write(`${command.help}\n`);
    return EXIT_OK;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`kernelseal ${command.name}: ${safeLines(error.message)}\nRun 'kernelseal ${command.name} --help' for usage.\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`kernelseal ${command.name}: ${safeLines(error instanceof Error ? error.message : String(error))}\n`);
    return EXIT_FAILURE;
  }
}

/** A message's lines, each made safe for a terminal (names in it come from outside). */
function safeLines(message: string): string {
  return message.split('\n').map(printable).join('\n');
}

/** The candidate within two edits of `word` (a typo), if any. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(word, name);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}
