// Runs scenarios of `interproc demo` one after the other, in a namespace of the run's own
// (demo-<pid>), and cleans up after them: at the end, after a failure, and on Ctrl-C
// (SIGINT, or SIGTERM), when the processes the demo started are killed, every object of the
// namespace and the temporary directory are removed, and the exit code is 130.
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_SUCCESS, reportFailure, type CommandContext } from '../command.ts';
import { narrationLines } from './narration.ts';
import type { Scenario } from './scenario.ts';
import { DemoStage } from './stage.ts';

export async function runDemo(
  scenarios: readonly Scenario[],
  total: number,
  positionOf: (scenario: Scenario) => number,
  context: CommandContext,
): Promise<number> {
  const namespace = `demo-${process.pid}`;
  // The library, and the peers (they inherit the environment), make their objects here.
  process.env.INTERPROC_NAMESPACE = namespace;
  const stage = new DemoStage(namespace);
  const started = performance.now();
  // Objects of this namespace can only be left by an earlier run with this pid that was
  // killed outright (SIGKILL: no cleanup); that process is gone, its leftovers would only
  // make this run's creates fail with EEXIST.
  stage.removeEverything();
  // Made now rather than when the fifo scenario needs it, so that a run leaves the same
  // behind wherever it is stopped: nothing.
  stage.temporaryDirectory();

  // Stopping early — Ctrl-C, SIGTERM, or nobody reading the narration any more (the reader
  // of a pipe such as `interproc demo | head` has gone): the same cleanup, then exit.
  let interrupted = false;
  const stopEarly = (why: string, exitCode: number): void => {
    if (interrupted) return; // a second Ctrl-C while cleaning up changes nothing
    interrupted = true;
    const peers = stage.running.length;
    process.stderr.write(`\ninterproc demo: ${why}: stopping ${peers} process${peers === 1 ? '' : 'es'}, removing namespace ${namespace}\n`);
    void stage.stopProcesses().then(() => {
      removeAndReport(stage);
      process.exit(exitCode);
    });
  };
  const interrupt = (signal: NodeJS.Signals): void => stopEarly(signal, EXIT_INTERRUPTED);
  const outputClosed = (error: Error): void => stopEarly(`standard output: ${error.message}`, EXIT_FAILURE);
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  process.stdout.on('error', outputClosed);

  const what =
    scenarios.length === 1
      ? `interproc demo ${scenarios[0]!.name}: one scenario of the IPC lecture, played by real processes.`
      : `interproc demo: the IPC lecture in ${scenarios.length} scenarios, each played by real processes.`;
  process.stdout.write(narrationLines('', `${what} Their objects are in namespace ${namespace} (interproc ls -n ${namespace}) until the end.`));
  let code = EXIT_SUCCESS;
  try {
    for (const scenario of scenarios) {
      process.stdout.write(`\n[${positionOf(scenario)}/${total}] ${scenario.name} - ${scenario.title}\n`);
      process.stdout.write(narrationLines('  lecture: ', scenario.lecture));
      stage.begin(scenario);
      await scenario.run(stage);
      await stage.stopProcesses(); // none are left running by a scenario that ended well
    }
  } catch (error) {
    // Interrupted: the handler kills, cleans up and exits; what failed meanwhile is its doing.
    if (interrupted) await new Promise<never>(() => undefined);
    code = reportFailure('demo', error, context);
    await stage.stopProcesses();
  }
  if (interrupted) await new Promise<never>(() => undefined);
  if (!removeAndReport(stage)) code = EXIT_FAILURE;
  if (code === EXIT_SUCCESS) {
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    process.stdout.write(`\n${narrationLines('', `Done in ${seconds} s; namespace ${namespace} removed, nothing of it left in /dev/shm.`)}`);
  }
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
  process.stdout.off('error', outputClosed);
  return code;
}

/** Removes everything of the run; says on stderr what could not be removed. True if nothing is left. */
function removeAndReport(stage: DemoStage): boolean {
  try {
    const left = stage.removeEverything();
    if (left.length === 0) return true;
    process.stderr.write(`interproc demo: could not remove ${left.map((file) => `/dev/shm/${file}`).join(', ')}\n`);
  } catch (error) {
    process.stderr.write(`interproc demo: cleaning up: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  return false;
}
