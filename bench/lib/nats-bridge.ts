// A bridge process of the bridge's rows: interproc's Bridge (src/bridge/), with the
// defaults `interproc bridge` runs it with, exporting or importing mailboxes of this
// process's namespace (INTERPROC_NAMESPACE, which the bench sets per helper process).
//
// It is the library's Bridge class given the NATS clients the bench loaded
// (nats-clients.ts): startBridge() would import them by bare name, which finds no
// node_modules from the bench's compiled copy under the temporary directory. The plan,
// the loops and their defaults are startBridge()'s own.
import { Bridge } from '../../src/bridge/bridge.js';
import { planBridge, type BridgePlan } from '../../src/bridge/bridge-options.js';
import type { BridgeEvent } from '../../src/bridge/bridge-events.js';
import type { NatsModules } from '../../src/bridge/nats-modules.js';

/**
 * Bridge's constructor, which startBridge() calls: internal, so the package's declarations
 * leave it out (stripInternal) and the shipped bench, compiled against them, names it here.
 */
type BridgeConstructor = new (plan: BridgePlan, modules: NatsModules) => Bridge;

export interface BridgeSpec {
  servers: string[];
  stream: string;
  subjectPrefix: string;
  exports: string[];
  imports: string[];
}

function describe(event: BridgeEvent): string | null {
  switch (event.kind) {
    case 'error':
      return `${event.direction} of mailbox ${event.mailbox}: ${event.error.message}; retrying in ${event.delay} ms`;
    case 'rejected':
      return `import of mailbox ${event.mailbox}: stream message ${event.streamSequence} refused: ${event.reason}`;
    case 'retrying':
      return `NATS unreachable (${event.error.message}); retrying in ${event.delay} ms`;
    case 'disconnected':
      return `disconnected from ${event.server}`;
    default:
      return null;
  }
}

/** Starts the bridge and resolves once it is connected; close() stops it. */
export async function startBenchBridge(modules: NatsModules, spec: BridgeSpec): Promise<{ close(): Promise<void> }> {
  let connected!: () => void;
  const connection = new Promise<void>((resolve) => (connected = resolve));
  const plan = planBridge({
    servers: spec.servers,
    stream: spec.stream,
    subjectPrefix: spec.subjectPrefix,
    exports: spec.exports,
    imports: spec.imports,
    onEvent: (event: BridgeEvent) => {
      if (event.kind === 'connected') connected();
      // What goes wrong shows on the bench's stderr (a row that then times out says why).
      const text = describe(event);
      if (text !== null) process.stderr.write(`bench bridge (pid ${process.pid}): ${text}\n`);
    },
  });
  const bridge = new (Bridge as unknown as BridgeConstructor)(plan, modules);
  await connection;
  return { close: () => bridge.close() };
}
