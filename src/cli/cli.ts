// `interproc [COMMAND] [ARGS...]`: finds the command and runs it (command.ts turns its
// outcome into the exit code), or answers help and --version itself.
import { createRequire } from 'node:module';
import { DEBUG_OPTION, EXIT_SUCCESS, EXIT_USAGE, runCommand } from './command.ts';
import { COMMANDS } from './commands.ts';
import { mainUsage } from './usage.ts';

/** Runs the command line `argv` (the arguments after `interproc`); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  // --debug may come before the command too (interproc --debug recv jobs).
  const debug = argv[0] === DEBUG_OPTION;
  const [first, ...rest] = debug ? argv.slice(1) : argv;
  if (first === undefined) {
    process.stderr.write(mainUsage(COMMANDS));
    return EXIT_USAGE;
  }
  if (first === 'help' || first === '--help' || first === '-h') {
    if (rest.length === 0) {
      process.stdout.write(mainUsage(COMMANDS));
      return EXIT_SUCCESS;
    }
    const command = COMMANDS.find((candidate) => candidate.name === rest[0]);
    if (command === undefined || rest.length > 1) return usageError(`no help for '${rest.join(' ')}': not a command`);
    process.stdout.write(command.usage);
    return EXIT_SUCCESS;
  }
  if (first === '--version' || first === '-v') {
    if (rest.length > 0) return usageError(`--version takes no arguments`);
    // The same relative path from src/cli/ (through tsx) and dist/cli/ (installed).
    const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
    process.stdout.write(`${version}\n`);
    return EXIT_SUCCESS;
  }
  if (first.startsWith('-')) return usageError(`unknown option '${first}'`);
  const command = COMMANDS.find((candidate) => candidate.name === first);
  if (command === undefined) return usageError(`unknown command '${first}'`);
  return runCommand(command, rest, debug);
}

function usageError(message: string): number {
  process.stderr.write(`interproc: ${message}\nSee 'interproc help' for the commands.\n`);
  return EXIT_USAGE;
}
