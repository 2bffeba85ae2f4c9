// `interproc top`: the named objects of a namespace, live, as htop shows processes and
// pm2 monit a process list: how full each is, what it holds, how fast messages go through
// it. Read-only, as `ls` is (it lists through the same registry code): it registers no
// user, takes no lock and repairs nothing. The rows are top-rows.ts, a frame top-frame.ts,
// the live screen top-live.ts and top-screen.ts.
import { setTimeout as delay } from 'node:timers/promises';
import { EXIT_SUCCESS, UsageError, type Command } from './command.ts';
import { loadRegistry } from './load-registry.ts';
import { ALL_NAMESPACES_OPTION, chooseNamespaces, NAMESPACE_OPTION } from './namespace-option.ts';
import { parseOptions } from './options.ts';
import { formatFrame } from './top-frame.ts';
import { runLive } from './top-live.ts';
import { isSortKey, rowsOf, SORT_KEYS, sortRows, type Sample } from './top-rows.ts';

const DEFAULT_INTERVAL_MS = 1000;
/** Shorter frames would be a listing of every object many times a second for no reader. */
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;

const TOP_USAGE = `Usage: interproc top [--namespace NS | --all-namespaces] [--sort KEY] [--once] [--interval MS]

Shows the named objects of a namespace live, one row each, refreshed every second: kind
and name, how full it is (FILL: a bar of messages/capacity or bytes/maxBytes, whichever is
fuller; "unbounded" when it has neither bound, "rendezvous" for a capacity of 0), the
messages and payload bytes it holds, messages sent and received per second since the
previous frame (SEND/s, RECV/s), the senders and receivers waiting on it, its creator's pid
and whether it runs (a port's owner), its status as ls shows it, and for a mailbox bridged to
NATS its bridge: direction, state, lag, pid, last error. Nothing is changed:
top reads objects as ls does.

Keys: q or Ctrl-C quits, s sorts by the next key. The terminal is restored on quitting,
and also when top is ended by SIGINT or SIGTERM (exit code 130) or fails.

With --once, or when stdout is not a terminal (a pipe, a file), top prints one frame as plain
text (no escape codes, lines not cut) and exits 0; its rates are measured over one interval.

Options:
  -n, --namespace NS      the namespace to show (default: INTERPROC_NAMESPACE, else "default")
  -A, --all-namespaces    every namespace, with a NAMESPACE column
  --sort KEY              the order of the rows: ${SORT_KEYS.join(', ')}
                          (default name: as ls lists; the others largest first)
  --once                  print one frame and exit
  --interval MS           milliseconds between frames, ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS} (default ${DEFAULT_INTERVAL_MS})
  -h, --help              show this text
`;

export const top: Command = {
  name: 'top',
  summary: 'watch the named objects of a namespace live (like htop)',
  usage: TOP_USAGE,
  async run(args) {
    const { values } = parseOptions({
      args,
      options: {
        ...NAMESPACE_OPTION,
        ...ALL_NAMESPACES_OPTION,
        sort: { type: 'string' },
        once: { type: 'boolean' },
        interval: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      process.stdout.write(TOP_USAGE);
      return EXIT_SUCCESS;
    }
    const sort = values.sort ?? 'name';
    if (!isSortKey(sort)) throw new UsageError(`--sort takes one of ${SORT_KEYS.join(', ')}, not '${sort}'`);
    const intervalMs = parseInterval(values.interval);
    const registry = await loadRegistry();
    const namespace = chooseNamespaces(registry, values.namespace, values['all-namespaces']);
    const sample = (): Sample => ({ at: performance.now(), records: registry.listObjects(namespace) });

    if (values.once !== true && process.stdout.isTTY) {
      return runLive({ namespace, sort, intervalMs, sample }, process.stdout, process.stdin.isTTY ? process.stdin : null);
    }
    // One frame, its rates from two samples an interval apart.
    const first = sample();
    await delay(intervalMs);
    const second = sample();
    const frame = formatFrame(sortRows(rowsOf(second, first), sort), {
      namespace,
      sort,
      intervalMs,
      time: new Date(),
      // On a terminal, cut to its width as the live screen is; in a file, whole.
      width: process.stdout.isTTY ? process.stdout.columns : null,
      height: null,
      keys: false,
    });
    process.stdout.write(frame.map((line) => `${line}\n`).join(''));
    return EXIT_SUCCESS;
  },
};

function parseInterval(text: string | undefined): number {
  if (text === undefined) return DEFAULT_INTERVAL_MS;
  const ms = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(ms >= MIN_INTERVAL_MS && ms <= MAX_INTERVAL_MS)) {
    throw new UsageError(`--interval takes milliseconds from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}, not '${text}'`);
  }
  return ms;
}
