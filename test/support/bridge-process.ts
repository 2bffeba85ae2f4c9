// A bridge run in a process of its own (test/helpers/bridge-party.ts), as another machine's
// bridge would be: the tests read its events as lines and can SIGKILL it mid-traffic.
import type { BridgeEvent, BridgeOptions, BridgeStatus } from '../../src/bridge/index.ts';
import { startHelper, type Helper } from './helper-process.ts';

/** BridgeEvent as it crosses the process boundary: errors become their messages. */
export type EventLine = BridgeEvent extends infer E ? (E extends unknown ? Omit<E, 'error'> & { error?: string } : never) : never;

export interface BridgeProcess {
  helper: Helper;
  /** Reads events until one of `kind` (matching `where`, if given) arrives, returning it. */
  waitForEvent(kind: BridgeEvent['kind'], where?: (event: EventLine) => boolean): Promise<EventLine>;
  /** Every event read so far. */
  events: EventLine[];
  status(): Promise<BridgeStatus>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

/** Starts a bridge process; `namespace` is its "machine" (default: the test's namespace); `extraEnv` adds to its environment. */
export async function startBridgeProcess(
  options: Omit<BridgeOptions, 'onEvent'>,
  namespace?: string,
  timeoutMs = 180_000,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<BridgeProcess> {
  const env = { ...(namespace === undefined ? {} : { INTERPROC_NAMESPACE: namespace }), ...extraEnv };
  const helper = startHelper('bridge-party.ts', [JSON.stringify(options)], { timeoutMs, env });
  const events: EventLine[] = [];
  const statuses: Array<(status: BridgeStatus) => void> = [];
  // Lines are read in one place; event waiters look at what has arrived.
  const waiters: Array<{ test: (event: EventLine) => boolean; resolve: (event: EventLine) => void }> = [];
  let started!: () => void;
  const startedLine = new Promise<void>((resolve) => (started = resolve));
  const reading = (async () => {
    for (;;) {
      const line = await helper.nextLine();
      if (line === 'started') started();
      else if (line.startsWith('event ')) {
        const event = JSON.parse(line.slice(6)) as EventLine;
        events.push(event);
        for (const [index, waiter] of waiters.entries()) {
          if (waiter.test(event)) {
            waiters.splice(index, 1);
            waiter.resolve(event);
            break;
          }
        }
      } else if (line.startsWith('status ')) statuses.shift()?.(JSON.parse(line.slice(7)) as BridgeStatus);
    }
  })();
  reading.catch(() => undefined);
  // The helper's end (or hard timeout) fails whoever still waits, with its stderr.
  const ended = helper.exited.then(
    ({ code, signal, stderr }) => new Error(`bridge process exited (code ${code}, signal ${signal})\n${stderr}`),
    (error: Error) => error,
  );
  const orEnd = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, ended.then((error) => Promise.reject(error))]);
  await orEnd(startedLine);
  return {
    helper,
    events,
    waitForEvent(kind, where = () => true) {
      const test = (event: EventLine): boolean => event.kind === kind && where(event);
      const seen = events.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return orEnd(new Promise((resolve) => waiters.push({ test, resolve })));
    },
    status() {
      const answer = new Promise<BridgeStatus>((resolve) => statuses.push(resolve));
      helper.send('status');
      return orEnd(answer);
    },
    async stop() {
      helper.kill('SIGTERM');
      const { code, signal, stderr } = await helper.exited;
      if (code !== 0) throw new Error(`bridge process did not stop cleanly (code ${code}, signal ${signal})\n${stderr}`);
    },
    async kill() {
      helper.kill('SIGKILL');
      await helper.exited;
    },
  };
}
