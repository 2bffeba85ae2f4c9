// Options of a command, parsed by Node's util.parseArgs in strict mode (its default): an
// unknown option, a missing value or an unexpected argument is a UsageError with a short
// message (parseArgs's own messages carry hints about `--` that do not help here).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.ts';

/** parseArgs(config) (`--name value` and `--name=value`), throwing UsageError for a bad command line. */
export function parseOptions<T extends ParseArgsConfig & { strict?: true }>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code === undefined || !code.startsWith('ERR_PARSE_ARGS_') || message === undefined) throw error;
    // "Unknown option '--x'. To specify a positional argument..." → "unknown option '--x'";
    // a message of several lines becomes one, its first with its last (the hint) in brackets.
    const lines = message.split('\n').map((line) => line.replace(/\.$/, ''));
    const first = code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? lines[0]! : lines[0]!.split('. ')[0]!;
    const brief = lines.length > 1 ? `${first} (${lines.at(-1)!.charAt(0).toLowerCase()}${lines.at(-1)!.slice(1)})` : first;
    throw new UsageError(brief.charAt(0).toLowerCase() + brief.slice(1));
  }
}

/** The whole number an option's `value` gives, from `min` to `max`; UsageError naming `option` otherwise. */
export function integerOption(value: string, option: string, min: number, max: number): number {
  const number = /^[0-9]{1,16}$/.test(value) ? Number(value) : NaN;
  if (!(number >= min && number <= max)) throw new UsageError(`${option} takes a whole number from ${min} to ${max}, not '${value}'`);
  return number;
}
