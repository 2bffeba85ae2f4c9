// The options of `interproc bench` (and `npm run bench`, the same command run from the
// sources), their usage text and their checks, in one place: the launcher
// (bench-launcher.ts) rejects a bad command line before it compiles or copies anything, and
// the compiled bench (bench/lib/main.ts) reads the values with the same function.
import { UsageError } from './command.ts';
import { parseOptions } from './options.ts';

export interface BenchOptions {
  quick: boolean;
  /** Measured runs per figure; undefined: the mode's default (3 quick, 7 full). */
  runs: number | undefined;
  /** Parts of "scenario/transport" ids to keep; undefined: every figure. */
  only: string[] | undefined;
  /** Where results go; undefined: the default the launcher chose (bench/lib/paths.ts). */
  out: string | undefined;
  /** An earlier run's .json whose .md and .svg are to be written again; nothing is measured. */
  render: string | undefined;
  profileHelpers: boolean;
  /** Run beside one CPU-bound process that the bench starts and kills (a loaded machine). */
  loaded: boolean;
  help: boolean;
}

export const BENCH_USAGE = `Usage: interproc bench [--quick] [--loaded] [--runs N] [--only ID[,ID...]] [--profile-helpers] [--out DIR]
       interproc bench --render FILE.json [--out DIR]

Measures interproc's Mailbox beside what a program would otherwise use (worker.postMessage,
child_process.send with 'json' and 'advanced' serialization, Unix domain sockets, pipes, the
node-ipc package) and beside the hardware's limit (small C programs), in one run on this
machine, and writes a report (.md), the figures (.json) and a chart (.svg). Progress goes to
stderr; the paths of the files written go to stdout. A full run takes several minutes: run
it on an idle machine.

Options:
  --quick              fewer, shorter runs (under a minute); results get a "-quick" suffix
  --loaded             measure beside one CPU-bound process (a busy loop the bench starts and
                       kills), as on a loaded machine; results get a "-loaded" suffix
  --runs N             measured runs per figure (default 3 with --quick, 7 without)
  --only ID[,ID...]    only figures whose "scenario/transport" contains one of these, e.g.
                       --only msg64/mailbox,rtt/c-  (results get a "-partial" suffix)
  --profile-helpers    helper processes write CPU profiles (--cpu-prof); the directory is shown
  --out DIR            where results go. Default: bench/results in a checkout of interproc's
                       repository; ./interproc-bench-results (in the current directory) where
                       interproc is installed as a package
  --render FILE.json   measure nothing: write the .md and .svg of an earlier run again
                       (into --out, by default the directory of FILE.json)
  -h, --help           show this text

Scenarios (the first part of an ID; --only with an ID that matches nothing lists them all):
  msg64                64 B one-way, 1 -> 1 process (single messages, batches, typed, Port, queue)
  fanin64              64 B, 4 sender processes -> 1 receiver
  rtt                  round trip of 64 B between two processes (spinning and sleeping forms)
  bw1m                 1 MiB one-way between two processes (bandwidth)
  thread-msg64, thread-fanin64, thread-rtt, thread-bw1m   the same between threads
  stream64k, stream4k  64 KiB and 4 KiB writes into a byte stream (Pipe, Unix socket, OS pipe)
  bridge64, bridge4k   64 B and 4 KiB through NATS JetStream on loopback: interproc's bridge
                       (mailbox -> export bridge -> stream -> import bridge -> mailbox) beside
                       the raw NATS client; the bench starts its own nats-server, and where
                       none is installed these rows say they were skipped

The C baselines are compiled at run time with the machine's \`cc\`; without one they are
skipped, and the report says so.
`;

/** Parses and checks the arguments after `bench`. Throws UsageError. */
export function parseBenchOptions(args: string[]): BenchOptions {
  const { values } = parseOptions({
    args,
    options: {
      quick: { type: 'boolean' },
      runs: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      render: { type: 'string' },
      'profile-helpers': { type: 'boolean' },
      loaded: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  let runs: number | undefined;
  if (values.runs !== undefined) {
    if (!/^[1-9][0-9]{0,5}$/.test(values.runs)) throw new UsageError(`--runs takes a whole number from 1 to 999999, not '${values.runs}'`);
    runs = Number(values.runs);
  }
  let only: string[] | undefined;
  if (values.only !== undefined) {
    only = values.only.split(',').filter((part) => part !== '');
    if (only.length === 0) throw new UsageError(`--only takes figure ids (scenario/transport), e.g. --only msg64/mailbox`);
  }
  if (values.out === '') throw new UsageError('--out takes a directory');
  if (values.render === '') throw new UsageError('--render takes the .json file of an earlier run');
  if (values.render !== undefined && (values.quick === true || runs !== undefined || only !== undefined || values['profile-helpers'] === true || values.loaded === true)) {
    throw new UsageError('--render measures nothing: it takes only --out');
  }
  return {
    quick: values.quick === true,
    runs,
    only,
    out: values.out,
    render: values.render,
    profileHelpers: values['profile-helpers'] === true,
    loaded: values.loaded === true,
    help: values.help === true,
  };
}
