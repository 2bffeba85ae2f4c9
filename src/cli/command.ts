// The contract between `interproc` and each of its commands: one file per command under
// src/cli/ exports a Command, and commands.ts lists it. How a command's outcome becomes the
// process's exit code is decided here, once, because scripts depend on the codes
// (docs/CLI.md): 0 success, 1 the command ran and failed, 2 it was called wrongly.

export const EXIT_SUCCESS = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A command line that cannot be run as written: unknown command or option, bad value. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Command {
  /** The word after `interproc`. */
  readonly name: string;
  /** One line for `interproc help`. */
  readonly summary: string;
  /** The whole text of `interproc help NAME` (and `interproc NAME --help`), ending in a newline. */
  readonly usage: string;
  /**
   * Runs with the arguments after the name and resolves to the exit code. Throws
   * UsageError for a bad command line, before it has done anything; any other error is a
   * failure (exit code 1).
   */
  run(args: string[]): Promise<number>;
}

/** Runs `command`; its errors become a message on stderr and exit code 2 or 1. */
export async function runCommand(command: Command, args: string[]): Promise<number> {
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`interproc ${command.name}: ${error.message}\nSee 'interproc help ${command.name}'.\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`interproc ${command.name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }
}
