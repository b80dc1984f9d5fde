import { VERSION } from '../version.js';
import { digestBackend, nativeUnavailableReason } from '../hashing/select-backend.js';
import { attestCommand } from './attest-command.js';
import { benchCommand } from './bench-command.js';
import { digestCommand } from './digest-command.js';
import { fetchCommand } from './fetch-command.js';
import { lockCommand } from './lock-command.js';
import { closest } from './closest.js';
import { printable, printableLines } from './format.js';
import { failCommand } from './output.js';
import { publishersCommand } from './publishers-command.js';
import { signBlobCommand } from './sign-blob-command.js';
import { signCommand } from './sign-command.js';
import { signModelCommand } from './sign-model-command.js';
import { verifyAttestationCommand } from './verify-attestation-command.js';
import { verifyBundleCommand } from './verify-bundle-command.js';
import { verifyCommand } from './verify-command.js';
import { verifyModelCommand } from './verify-model-command.js';
import { verifyReleaseCommand } from './verify-release-command.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, HelpRequested, UsageError, inUserSpelling, type Command } from './usage.js';
import { DigestBackendChoiceError } from '../hashing/select-backend.js';


const commands: Command[] = [
  verifyCommand,
  verifyBundleCommand,
  verifyAttestationCommand,
  verifyReleaseCommand,
  fetchCommand,
  lockCommand,
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
    try {
      process.stdout.write(`${versionText()}\n`);
      return EXIT_OK;
    } catch (error) {
      return failed('kernelseal', [], error);
    }
  }
  const command = commands.find((candidate) => candidate.name === name) ?? ALIASES.get(name);
  if (!command) {
    const guess = closest(name, [...commands.map((candidate) => candidate.name), ...ALIASES.keys()]);
    const hint = guess ? `kernelseal: unknown command '${printable(name)}': did you mean '${guess}'?` : `kernelseal: unknown command '${printable(name)}'`;
    process.stderr.write(`${hint}\n\n${mainHelp()}\n`);
    failCommand(name, args, EXIT_USAGE, { code: 'USAGE', message: hint.replace(/^kernelseal: /, '') });
    return EXIT_USAGE;
  }
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
function failed(name: string, args: string[], error: unknown): number {
  const usage = error instanceof UsageError || error instanceof DigestBackendChoiceError;
  const message = inUserSpelling(error instanceof Error ? error.message : String(error));
  const code = usage ? EXIT_USAGE : EXIT_FAILURE;
  const pointer = error instanceof UsageError ? `\nRun 'kernelseal ${name === 'kernelseal' ? '' : `${name} `}--help' for usage.` : '';
  process.stderr.write(`${name === 'kernelseal' ? 'kernelseal' : `kernelseal ${name}`}: ${printableLines(message)}${pointer}\n`);
  const errorCode = error instanceof UsageError ? 'USAGE' : typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'ERROR';
  failCommand(name, args, code, { code: errorCode, message });
  return code;
}
