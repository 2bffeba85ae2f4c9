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
    // "Unknown option '--x'. To specify a positional argument..." → "unknown option '--x'"
    const brief = code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? message : message.split('. ')[0]!;
    throw new UsageError(brief.charAt(0).toLowerCase() + brief.slice(1));
  }
}
