// The loop each bridged mailbox runs, export or import: its work, redone after a back-off
// whenever it fails (no connection, a server gone, a stream or consumer not there yet),
// until the bridge closes. Every failure is reported, with the delay before the next try.
import { IpcError } from '../core/errors.ts';
import { Backoff, pause } from './backoff.ts';
import type { BridgePlan } from './bridge-options.ts';
import type { JetStreamContext } from './import-loop.ts';

export interface MailboxLoop {
  readonly name: string;
  readonly direction: 'export' | 'import';
  /** One connected run of the work: returns when `signal` aborts, throws on a failure. */
  runOnce(context: JetStreamContext, signal: AbortSignal, backoff: Backoff): Promise<void>;
}

/** Runs `loop` until `signal` aborts; `jetStream()` is the connection's context now, or null. */
export async function runMailboxLoop(
  loop: MailboxLoop,
  plan: BridgePlan,
  onError: (error: Error) => void,
  jetStream: () => JetStreamContext | null,
  signal: AbortSignal,
): Promise<void> {
  const backoff = new Backoff(plan.initialDelay, plan.maxDelay);
  while (!signal.aborted) {
    const context = jetStream();
    try {
      if (context === null) throw new IpcError('ECONNREFUSED', 'not connected to NATS');
      await loop.runOnce(context, signal, backoff);
    } catch (error) {
      if (signal.aborted) return;
      const delay = backoff.next();
      const failure = error instanceof Error ? error : new Error(String(error));
      onError(failure);
      plan.onEvent({ kind: 'error', mailbox: loop.name, direction: loop.direction, delay, error: failure });
      await pause(delay, signal);
    }
  }
}
