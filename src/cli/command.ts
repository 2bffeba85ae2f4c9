// The contract between `interproc` and each of its commands: one file per command under
// src/cli/ exports a Command, and commands.ts lists it. How a command's outcome becomes the
// process's exit code, and how a failure is reported, is decided here, once, because
// scripts depend on the codes (docs/CLI.md): 0 success, 1 the command ran and failed, 2 it
// was called wrongly, 124 it gave up waiting (a timeout, as timeout(1) reports one).
import { inspect } from 'node:util';
import { IpcError } from '../core/errors.ts';

export const EXIT_SUCCESS = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** The command failed with ETIMEDOUT: what it waited for did not happen in time. */
export const EXIT_TIMEOUT = 124;
/** SIGINT or SIGTERM ended the command, after it cleaned up (128 + SIGINT's number, as a shell reports it). */
export const EXIT_INTERRUPTED = 130;

/** The option every command takes: on failure, the stack trace too. */
export const DEBUG_OPTION = '--debug';

/** A command line that cannot be run as written: unknown command or option, bad value. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What every command is told besides its own arguments. */
export interface CommandContext {
  /** --debug was given: a failure is reported with its stack trace (reportFailure). */
  readonly debug: boolean;
}

export interface Command {
  /** The word after `interproc`. */
  readonly name: string;
  /** One line for `interproc help`. */
  readonly summary: string;
  /** The whole text of `interproc help NAME` (and `interproc NAME --help`), ending in a newline. */
  readonly usage: string;
  /**
   * Runs with the arguments after the name (--debug taken out) and resolves to the exit
   * code. Throws UsageError for a bad command line, before it has done anything; any other
   * error is a failure (exit code 1, or 124 for ETIMEDOUT).
   */
  run(args: string[], context: CommandContext): Promise<number>;
}

/**
 * Takes --debug out of a command's arguments, wherever it stands before a `--` (after
 * which every word is an operand, so `interproc send box -- --debug` sends "--debug").
 */
export function takeDebugOption(args: readonly string[]): { args: string[]; debug: boolean } {
  const end = args.indexOf('--');
  const options = end < 0 ? [...args] : args.slice(0, end);
  const rest = end < 0 ? [] : args.slice(end);
  const kept = options.filter((arg) => arg !== DEBUG_OPTION);
  return { args: [...kept, ...rest], debug: kept.length !== options.length };
}

/** The exit code a command's failure with `error` ends in. */
export function exitCodeFor(error: unknown): number {
  return error instanceof IpcError && error.code === 'ETIMEDOUT' ? EXIT_TIMEOUT : EXIT_FAILURE;
}

/**
 * Writes a failure to stderr as one line, `interproc NAME: message` (the library's messages
 * name the object: mailbox "jobs", port 7), and with --debug the error in full after it:
 * its stack and causes. Without --debug a user never sees a stack trace. Returns the exit code.
 */
export function reportFailure(commandName: string, error: unknown, context: CommandContext): number {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`interproc ${commandName}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  writeDebugDetail(error, context);
  return exitCodeFor(error);
}

/** With --debug, the error in full on stderr (stack and causes), after its one-line report. */
export function writeDebugDetail(error: unknown, context: CommandContext): void {
  if (context.debug) process.stderr.write(`${inspect(error, { depth: 4 })}\n`);
}

/** Runs `command`; its errors become a message on stderr and exit code 2, 1 or 124. */
export async function runCommand(command: Command, args: string[], debug = false): Promise<number> {
  const taken = takeDebugOption(args);
  const context: CommandContext = { debug: debug || taken.debug };
  try {
    return await command.run(taken.args, context);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`interproc ${command.name}: ${error.message}\nSee 'interproc help ${command.name}'.\n`);
      return EXIT_USAGE;
    }
    return reportFailure(command.name, error, context);
  }
}
