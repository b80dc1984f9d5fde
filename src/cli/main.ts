import { createRequire } from 'node:module';
import { digestBackend, nativeUnavailableReason } from '../digest/select-backend.js';
import { benchCommand } from './bench-command.js';
import { digestCommand } from './digest-command.js';
import { fetchCommand } from './fetch-command.js';
import { printable } from './format.js';
import { signBlobCommand } from './sign-blob-command.js';
import { signCommand } from './sign-command.js';
import { signModelCommand } from './sign-model-command.js';
import { verifyBundleCommand } from './verify-bundle-command.js';
import { verifyCommand } from './verify-command.js';
import { verifyModelCommand } from './verify-model-command.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type Command } from './usage.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const commands: Command[] = [
  verifyCommand,
  verifyBundleCommand,
  fetchCommand,
  signCommand,
  signBlobCommand,
  verifyModelCommand,
  signModelCommand,
  digestCommand,
  benchCommand,
];

function mainHelp(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return `kernelseal ${version}: are these exact files what a publisher I trust built?

Usage: kernelseal <command> [options]

Commands:
${commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Run 'kernelseal <command> --help' for a command's options and examples.
'kernelseal --version' prints the version and the digest backend in use.`;
}

function versionText(): string {
  const backend = digestBackend().name;
  const reason = nativeUnavailableReason();
  return `kernelseal ${version} (node ${process.version}, digest backend: ${backend}${reason ? `; native unavailable: ${reason.split('\n')[0]}` : ''})`;
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
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`kernelseal: unknown command '${name}'\n\n${mainHelp()}\n`);
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
