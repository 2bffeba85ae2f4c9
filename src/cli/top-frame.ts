// One frame of `interproc top` as lines of plain text: a title line, the table of rows and,
// on a live screen, a line of the keys. Lines never wrap: each is cut at the terminal's
// width, and rows that do not fit its height are left out with a line that says how many.
// The same frame is printed by --once, uncut when stdout is not a terminal.
import type { ObjectRecord } from '../registry/index.ts';
import { bridgesCell, printable } from './bridge-text.ts';
import { statusWords } from './object-text.ts';
import { formatTable, type Column } from './table.ts';
import { SORT_KEYS, type SortKey, type TopRow } from './top-rows.ts';

const NONE = '-';
/** Cells of the fill bar between its brackets. */
const BAR_CELLS = 10;

export interface FrameOptions {
  /** The namespace shown, or null for every namespace (a NAMESPACE column is added). */
  namespace: string | null;
  sort: SortKey;
  intervalMs: number;
  /** When the sample was taken. */
  time: Date;
  /** Columns and lines the frame may fill; null: as many as it needs. */
  width: number | null;
  height: number | null;
  /** The line of keys, on a live screen. */
  keys: boolean;
}

/** The frame's lines, without line ends. */
export function formatFrame(rows: readonly TopRow[], options: FrameOptions): string[] {
  const where = options.namespace === null ? 'all namespaces' : `namespace ${options.namespace}`;
  const count = `${rows.length} object${rows.length === 1 ? '' : 's'}`;
  const title = `interproc top - ${where} - ${count} - sorted by ${options.sort} - every ${seconds(options.intervalMs)} - ${clock(options.time)}`;
  const table = formatTable(columns(options.namespace === null), rows.map((row) => cells(row, options.namespace === null)))
    .trimEnd()
    .split('\n');
  const [heading, ...body] = table;
  const footer = options.keys ? [`q quit  s sort by the next key (${SORT_KEYS.join(' ')})`] : [];
  let shown = body;
  if (options.height !== null) {
    // Title, heading and footer always show; a screen too short for any row shows none.
    const room = Math.max(0, options.height - 2 - footer.length);
    if (body.length > room) {
      const more = body.length - (room - 1);
      shown = room === 0 ? [] : [...body.slice(0, room - 1), `... ${more} more (a taller window shows them)`];
    }
  }
  const lines = [title, heading!, ...shown, ...footer];
  if (options.height !== null) lines.length = Math.min(lines.length, options.height);
  return options.width === null ? lines : lines.map((line) => line.slice(0, Math.max(0, options.width!)));
}

function columns(withNamespace: boolean): Column[] {
  return [
    ...(withNamespace ? [{ title: 'NAMESPACE' }] : []),
    { title: 'KIND' },
    { title: 'NAME' },
    { title: 'FILL' },
    { title: 'MESSAGES', right: true },
    { title: 'BYTES', right: true },
    { title: 'SEND/s', right: true },
    { title: 'RECV/s', right: true },
    { title: 'SENDERS', right: true },
    { title: 'RECEIVERS', right: true },
    { title: 'CREATOR' },
    { title: 'STATUS' },
    { title: 'BRIDGE' },
  ];
}

function cells(row: TopRow, withNamespace: boolean): string[] {
  const { record } = row;
  const store = record.store;
  return [
    ...(withNamespace ? [record.namespace] : []),
    record.kind,
    printable(record.port === null ? record.name : String(record.port.number)),
    fillText(row),
    store === null ? NONE : String(store.messages),
    store === null ? NONE : String(store.bytes),
    rateText(row.sendRate),
    rateText(row.receiveRate),
    store === null ? NONE : String(store.waitingSenders),
    store === null ? NONE : String(store.waitingReceivers),
    creatorText(record),
    statusWords(record),
    bridgesCell(record),
  ];
}

/**
 * `[###.......]  30%`; "unbounded" for a store without bounds, "rendezvous" for one of zero
 * capacity (it buffers nothing); "-" for an object that is no store.
 */
function fillText(row: TopRow): string {
  const fill = row.fill;
  if (fill === null) {
    const store = row.record.store;
    return store === null ? NONE : store.capacity === 0 ? 'rendezvous' : 'unbounded';
  }
  // A store that holds anything shows at least one mark and more than 0%; one not quite
  // full shows a gap and less than 100%.
  const marks = fill === 0 ? 0 : Math.min(BAR_CELLS - (fill < 1 ? 1 : 0), Math.max(1, Math.round(fill * BAR_CELLS)));
  const percent = fill === 0 ? '0%' : fill < 0.01 ? '<1%' : fill < 1 ? `${Math.min(99, Math.round(fill * 100))}%` : '100%';
  return `[${'#'.repeat(marks)}${'.'.repeat(BAR_CELLS - marks)}] ${percent.padStart(4)}`;
}

/** Messages per second: "0", "2.5", "340", "12.3k", "1.2M"; "-" before there are two samples. */
export function rateText(rate: number | null): string {
  if (rate === null) return NONE;
  if (rate === 0) return '0';
  if (rate < 10) return rate.toFixed(1);
  if (rate < 10_000) return String(Math.round(rate));
  if (rate < 10_000_000) return `${(rate / 1000).toFixed(1)}k`;
  return `${(rate / 1_000_000).toFixed(1)}M`;
}

/** The creator's pid and whether it runs; for a port, its owner's (a port whose owner is dead refuses senders). */
function creatorText(record: ObjectRecord): string {
  const pid = record.port?.ownerPid ?? record.creatorPid;
  const alive = record.port?.ownerAlive ?? record.creatorAlive;
  if (pid === null) return NONE;
  return alive === null ? String(pid) : `${pid} ${alive ? 'alive' : 'dead'}`;
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

function clock(time: Date): string {
  return time.toTimeString().slice(0, 8);
}
