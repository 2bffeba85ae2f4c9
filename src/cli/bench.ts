// `interproc bench`: the benchmark suite of bench/, run compiled (bench-launcher.ts).
import { BENCH_USAGE, parseBenchOptions } from './bench-options.ts';
import { launchBench } from './bench-launcher.ts';
import { EXIT_SUCCESS, type Command } from './command.ts';

export const bench: Command = {
  name: 'bench',
  summary: "measure interproc beside postMessage, child_process.send, sockets, pipes and C",
  usage: BENCH_USAGE,
  async run(args, context) {
    // Checked here, before the launcher spends seconds compiling: a typo fails at once.
    const options = parseBenchOptions(args);
    if (options.help) {
      process.stdout.write(BENCH_USAGE);
      return EXIT_SUCCESS;
    }
    return launchBench(args, context.debug);
  },
};
