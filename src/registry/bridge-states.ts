// The bridge states of a mailbox (bridge/state-record.ts), as ls and top show them: read
// without changing anything, each file bounded and validated as untrusted input, and the
// bridge's liveness checked by its pid and start time (a reused pid is not the bridge).
// A record whose bridge has died is kept as "stopped" until the bridge restarts (it
// rewrites the record) or `interproc rm --stale` removes it.
import { readdirSync, rmSync } from 'node:fs';
import { isThreadAlive } from '../core/liveness.ts';
import { SHM_DIR } from '../core/names.ts';
import { parseState, parseStateFileName, readStateText, stateFilePath, type BridgeDirection } from '../bridge/state-record.ts';

export interface BridgeState {
  direction: BridgeDirection;
  /**
   * connected: the bridge runs and is connected to NATS; disconnected: it runs and is not
   * (connecting, retrying, reconnecting); unresponsive: its process lives but has not
   * rewritten the record for UNRESPONSIVE_AFTER_MS (stopped by a signal or a debugger, or its
   * event loop blocked), so what the record says is old; stopped: its process has died;
   * damaged: the record cannot be believed; unreadable: this user may not read it (another
   * user's bridge); `problem` says why for the last three.
   */
  state: 'connected' | 'disconnected' | 'unresponsive' | 'stopped' | 'damaged' | 'unreadable';
  /** The bridge process; null when damaged. */
  pid: number | null;
  /** The NATS server it is connected to, when connected. */
  server: string | null;
  /**
   * Export: messages queued in the mailbox, not yet published and acknowledged by JetStream
   * (the mailbox's count now). Import: messages in the stream for the mailbox not yet
   * delivered to it (JetStream's pending count at the bridge's last delivery, not counting
   * those delivered and not yet acknowledged). null when not known.
   */
  lag: number | null;
  /** Export: messages published and acknowledged; import: delivered and acknowledged — by this bridge process. */
  moved: number | null;
  lastError: { message: string; at: number } | null;
  /** When the bridge last rewrote the record, ms since the epoch. */
  updatedAt: number | null;
  problem: string | null;
}

const DIRECTIONS: readonly BridgeDirection[] = ['export', 'import'];

/**
 * How long a running bridge may leave its record unwritten before it is shown unresponsive:
 * 40 of its rewrites (STATE_INTERVAL_MS), room for a loaded machine's late timers.
 */
export const UNRESPONSIVE_AFTER_MS = 10_000;

/** Whether a bridge process that lives and wrote its record at `updatedAt` still runs as it should. */
export function isRunningState(state: BridgeState['state']): boolean {
  return state === 'connected' || state === 'disconnected' || state === 'unresponsive';
}

function damaged(direction: BridgeDirection, problem: string, state: 'damaged' | 'unreadable' = 'damaged'): BridgeState {
  return { direction, state, pid: null, server: null, lag: null, moved: null, lastError: null, updatedAt: null, problem };
}

/** The bridge states of mailbox `name`; `queued`: its messages now (an export's lag), null when unknown. */
export function readBridgeStates(namespace: string, name: string, queued: number | null): BridgeState[] {
  const now = Date.now();
  const states: BridgeState[] = [];
  for (const direction of DIRECTIONS) {
    const path = stateFilePath(namespace, direction, name);
    if (path === null) continue;
    let text: string | null;
    try {
      text = readStateText(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      states.push(damaged(direction, `cannot be read: ${code ?? String(error)}`, code === 'EACCES' || code === 'EPERM' ? 'unreadable' : 'damaged'));
      continue;
    }
    if (text === null) continue;
    const record = parseState(text, direction);
    if (typeof record === 'string') {
      states.push(damaged(direction, record));
      continue;
    }
    const running = isThreadAlive(record.pid, (startTime) => record.startTime === null || startTime === record.startTime);
    const silentMs = now - record.updatedAt;
    const unresponsive = running && silentMs > UNRESPONSIVE_AFTER_MS;
    states.push({
      direction,
      state: !running ? 'stopped' : unresponsive ? 'unresponsive' : record.connected ? 'connected' : 'disconnected',
      pid: record.pid,
      server: running && !unresponsive && record.connected ? record.server : null,
      lag: direction === 'export' ? queued : record.pending,
      moved: record.moved,
      lastError: record.lastError,
      updatedAt: record.updatedAt,
      problem: unresponsive ? `its record was last written ${Math.round(silentMs / 1000)} s ago` : null,
    });
  }
  return states;
}

/**
 * Removes the state records of bridges that have died (and damaged ones), and temporary
 * files no running bridge writes (a bridge killed between writing one and renaming it), in
 * `namespace` (null: every namespace); with `dryRun`, only says which. The names of the
 * files removed. A running bridge whose temporary file is removed under it loses one
 * rewrite, not its record.
 */
export function removeDeadBridgeStates(namespace: string | null, dryRun: boolean): string[] {
  const removed: string[] = [];
  for (const fileName of readdirSync(SHM_DIR)) {
    const parts = parseStateFileName(fileName);
    if (parts === null || (namespace !== null && parts.namespace !== namespace)) continue;
    const states = readBridgeStates(parts.namespace, parts.mailbox, null).filter((state) => state.direction === parts.direction);
    // Kept: a running bridge's, and one this user may not read (another user's bridge may run).
    const kept = states.some((state) => isRunningState(state.state) || state.state === 'unreadable');
    // A state file: when its bridge is dead or the file damaged. A temporary one: when no bridge runs under its name.
    if (kept || (!parts.temp && states.length === 0)) continue;
    if (!dryRun) {
      try {
        rmSync(`${SHM_DIR}/${fileName}`, { force: true });
      } catch {
        // Not this user's to remove (sticky /dev/shm): left as it is.
        continue;
      }
    }
    removed.push(fileName);
  }
  return removed;
}
