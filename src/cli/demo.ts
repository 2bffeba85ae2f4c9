// `interproc demo`: the scenarios of the IPC lecture, each played by real processes and
// narrated (src/cli/demo/). The scenarios load the library, and with it the native addon,
// only when the command runs: `interproc help` works without the addon.
import { EXIT_SUCCESS, UsageError, type Command } from './command.ts';
import { loadLibrary } from './load-registry.ts';
import { parseOptions } from './options.ts';

const DEMO_USAGE = `Usage: interproc demo [NAME] [--list]

Plays the scenarios of the IPC lecture with real processes: this process and the Node
processes it starts (and cat) share memory, lock, send and receive, and each step is
narrated with what the lecture says and the figures seen. Without NAME every scenario runs,
in order (well under a minute); with NAME only that one.

Everything happens in a namespace of the run's own, demo-<pid> (look at it meanwhile with
interproc ls -n demo-<pid>), and in a temporary directory; both are removed at the end, and
also when the demo is interrupted with Ctrl-C (exit code 130), after the processes it
started have been stopped.

Options:
  --list                  list the scenarios (name and what each shows)
  -h, --help              show this text
`;

export const demo: Command = {
  name: 'demo',
  summary: "the IPC lecture's scenarios, played by real processes and narrated",
  usage: DEMO_USAGE,
  async run(args, context) {
    const { values, positionals } = parseOptions({
      args,
      allowPositionals: true,
      options: { list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help === true) {
      process.stdout.write(DEMO_USAGE);
      return EXIT_SUCCESS;
    }
    if (positionals.length > 1) throw new UsageError(`one scenario at a time (got ${positionals.join(', ')})`);
    if (values.list === true && positionals.length > 0) throw new UsageError('give NAME or --list, not both');
    await loadLibrary(); // a missing addon is explained in one line, before any scenario loads it
    const { SCENARIOS } = await import('./demo/scenarios.ts');
    if (values.list === true) {
      const width = Math.max(...SCENARIOS.map((scenario) => scenario.name.length));
      for (const scenario of SCENARIOS) process.stdout.write(`${scenario.name.padEnd(width)}  ${scenario.title}\n`);
      return EXIT_SUCCESS;
    }
    const [name] = positionals;
    const chosen = name === undefined ? SCENARIOS : SCENARIOS.filter((scenario) => scenario.name === name);
    if (chosen.length === 0) {
      throw new UsageError(`no scenario '${name}'; the scenarios are ${SCENARIOS.map((scenario) => scenario.name).join(', ')}`);
    }
    const { runDemo } = await import('./demo/run-demo.ts');
    return runDemo(chosen, SCENARIOS.length, (scenario) => SCENARIOS.indexOf(scenario) + 1, context);
  },
};
