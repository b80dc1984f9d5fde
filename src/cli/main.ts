import { VERSION } from '../version.js';
import { digestBackend, nativeUnavailableReason } from '../hashing/select-backend.js';
import { attestCommand } from './attest-command.js';
import { benchCommand } from './bench-command.js';
import { digestCommand } from './digest-command.js';
import { fetchCommand } from './fetch-command.js';
import { printable } from './format.js';
import { publishersCommand } from './publishers-command.js';
import { signBlobCommand } from './sign-blob-command.js';
import { signCommand } from './sign-command.js';
import { signModelCommand } from './sign-model-command.js';
import { verifyAttestationCommand } from './verify-attestation-command.js';
import { verifyBundleCommand } from './verify-bundle-command.js';
import { verifyCommand } from './verify-command.js';
import { verifyModelCommand } from './verify-model-command.js';
import { verifyReleaseCommand } from './verify-release-command.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type Command } from './usage.js';


const commands: Command[] = [
  verifyCommand,
  verifyBundleCommand,
  verifyAttestationCommand,
  verifyReleaseCommand,
  fetchCommand,
  signCommand,
  signBlobCommand,
  verifyModelCommand,
  signModelCommand,
  attestCommand,
  digestCommand,
  benchCommand,
  publishersCommand,
];

/** The names people already type for our commands: the kernels CLI's, cosign's. */
const ALIASES: ReadonlyMap<string, Command> = new Map([
  ['verify-signature', verifyCommand],
  ['verify-blob', verifyBundleCommand],
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

function versionText(): string {
  const backend = digestBackend().name;
  const reason = nativeUnavailableReason();
  return `kernelseal ${VERSION} (node ${process.version}, digest backend: ${backend}${reason ? `; native unavailable: ${reason.split('\n')[0]}` : ''})`;
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? commands.find((command) => command.name === args[0]) : undefined;
    process.stdout.write(`${topic ? topic.help : mainHelp()}\n`);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '-V' || name === '--version') {
    process.stdout.write(`${versionText()}\n`);
    return EXIT_OK;
  }
  const command = commands.find((candidate) => candidate.name === name) ?? ALIASES.get(name);
  if (!command) {
    const guess = closest(name, [...commands.map((candidate) => candidate.name), ...ALIASES.keys()]);
    const hint = guess ? `kernelseal: unknown command '${printable(name)}': did you mean '${guess}'?` : `kernelseal: unknown command '${printable(name)}'`;
    process.stderr.write(`${hint}\n\n${mainHelp()}\n`);
    return EXIT_USAGE;
  }
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
