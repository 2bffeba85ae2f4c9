// How a mailbox's NATS bridges read on a terminal (registry/bridge-states.ts): the BRIDGES
// table of `interproc ls`, the BRIDGE column of `ls -o` and `top`, and the lines of `stat`.
// The texts come from files another process wrote: control characters are replaced before
// they reach the terminal.
import { isRunningState } from '../registry/bridge-states.ts';
import type { BridgeState, ObjectRecord } from '../registry/index.ts';
import { formatTable, type Column } from './table.ts';

const NONE = '-';

/** Text as it may be written to a terminal: control characters would move its cursor. */
export function printable(text: string): string {
  return Array.from(text, (char) => {
    const code = char.codePointAt(0)!;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? '?' : char;
  }).join('');
}

/** "connected", "disconnected", "unresponsive (why)", "stopped (pid 123 died)", "damaged (why)". */
export function bridgeStateWords(state: BridgeState): string {
  switch (state.state) {
    case 'stopped':
      return `stopped (pid ${state.pid} died)`;
    case 'unresponsive':
    case 'damaged':
    case 'unreadable':
      return `${state.state} (${printable(state.problem ?? 'unknown')})`;
    default:
      return state.state;
  }
}

/**
 * One bridge in a cell: "export connected lag 3 pid 123", "import disconnected lag 0 pid 123
 * error 4s ago: connection refused", "export stopped (pid 123 died) error ...".
 */
export function bridgeSummary(state: BridgeState, now = Date.now()): string {
  const running = isRunningState(state.state);
  const lag = running ? ` lag ${state.lag ?? NONE} pid ${state.pid}` : '';
  const error = state.lastError === null ? '' : ` error ${lastErrorText(state, now)}`;
  return `${state.direction} ${bridgeStateWords(state)}${lag}${error}`;
}

/** A record's bridges in one cell, "-" for none. */
export function bridgesCell(record: ObjectRecord): string {
  const now = Date.now();
  return record.bridges.length === 0 ? NONE : record.bridges.map((state) => bridgeSummary(state, now)).join('; ');
}

/** "12s ago: connection refused", or "-". */
export function lastErrorText(state: BridgeState, now = Date.now()): string {
  if (state.lastError === null) return NONE;
  return `${ago(now - state.lastError.at)}: ${printable(state.lastError.message)}`;
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

/**
 * The BRIDGES table of `interproc ls`: one row per bridged mailbox and direction. LAG is an
 * export's messages queued and not yet acknowledged by JetStream, or an import's messages
 * pending in the stream.
 */
export function bridgeTable(records: readonly ObjectRecord[], withNamespace: boolean): string {
  const columns: Column[] = [
    ...(withNamespace ? [{ title: 'NAMESPACE' }] : []),
    { title: 'MAILBOX' },
    { title: 'DIRECTION' },
    { title: 'PID', right: true },
    { title: 'STATE' },
    { title: 'LAG', right: true },
    { title: 'LAST ERROR' },
  ];
  const now = Date.now();
  const rows = records.flatMap((record) =>
    record.bridges.map((state) => [
      ...(withNamespace ? [record.namespace] : []),
      record.name,
      state.direction,
      state.pid === null ? NONE : String(state.pid),
      bridgeStateWords(state),
      state.lag === null ? NONE : String(state.lag),
      lastErrorText(state, now),
    ]),
  );
  return formatTable(columns, rows);
}

/** `interproc stat`'s lines of a mailbox's bridges. */
export function bridgeLines(record: ObjectRecord): Array<[string, string]> {
  return record.bridges.map((state) => {
    // A stopped bridge's words name its pid already.
    const pid = state.pid === null || state.state === 'stopped' ? '' : `, pid ${state.pid}`;
    const server = state.server === null ? '' : `, server ${printable(state.server)}`;
    const lag = state.lag === null ? '' : `, lag ${state.lag} (${state.direction === 'export' ? 'queued, not yet acknowledged by JetStream' : 'pending in the stream'})`;
    const error = state.lastError === null ? '' : `, last error ${lastErrorText(state)}`;
    return [`${state.direction} bridge`, `${bridgeStateWords(state)}${pid}${server}${lag}${error}`];
  });
}
