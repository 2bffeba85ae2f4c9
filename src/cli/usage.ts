// The text of `interproc help`: the commands that exist (commands.ts), the global options and
// the exit codes. Each command's own text is its `usage` (command.ts).
import { DEBUG_OPTION, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_SUCCESS, EXIT_TIMEOUT, EXIT_USAGE, type Command } from './command.ts';

export function mainUsage(commands: readonly Command[]): string {
  const width = Math.max('help [COMMAND]'.length, ...commands.map((command) => command.name.length)) + 2;
  const line = (name: string, text: string): string => `  ${name.padEnd(width)}${text}\n`;
  return (
    'Usage: interproc <command> [options]\n\n' +
    'The command line of interproc, interprocess communication for Node.js.\n\n' +
    'Commands:\n' +
    commands.map((command) => line(command.name, command.summary)).join('') +
    line('help [COMMAND]', "this text, or a command's options (also: interproc COMMAND --help)") +
    '\nOptions:\n' +
    line('-h, --help', 'this text') +
    line('-v, --version', "print interproc's version") +
    line(DEBUG_OPTION, 'with any command: on failure, print the stack trace too') +
    '\nExit codes:\n' +
    line(String(EXIT_SUCCESS), 'success') +
    line(String(EXIT_FAILURE), 'failure: the command ran and failed (the message says why)') +
    line(String(EXIT_USAGE), 'usage error: unknown command or option, or a bad value; nothing was done') +
    line(String(EXIT_TIMEOUT), 'timeout: what the command waited for did not happen in time (ETIMEDOUT)') +
    line(String(EXIT_INTERRUPTED), 'interrupted (SIGINT or SIGTERM) after cleaning up')
  );
}
