// `interproc ls -o COLUMNS`: the columns a user picks, as `ps -o` takes them — one table of
// every object listed, whatever its kind, with those columns in that order. Each column's
// value comes from the registry's record (the fields of ls --json); "-" where it does not
// apply to an object (a segment's messages) or is not known.
import type { ObjectRecord } from '../registry/index.ts';
import type { StoreSnapshot } from '../channel/snapshot.ts';
import { UsageError } from './command.ts';
import { bridgesCell } from './bridge-text.ts';
import { capacityText, statusWords } from './object-text.ts';
import { formatTable } from './table.ts';
import { userName } from './user-names.ts';

const NONE = '-';

interface LsColumn {
  /** What -o calls it (lower case); its title is the same in upper case. */
  readonly name: string;
  /** Align right (numbers). */
  readonly right: boolean;
  readonly value: (record: ObjectRecord) => string;
}

function text(value: number | string | null | undefined): string {
  return value === null || value === undefined ? NONE : String(value);
}

/** A figure of a message store (a mailbox, message queue or port), "-" for other objects. */
function storeColumn(name: string, value: (store: StoreSnapshot) => string): LsColumn {
  return { name, right: true, value: (record) => (record.store === null ? NONE : value(record.store)) };
}

/** A pid that 0 means "none yet" for. */
function pidText(pid: number): string {
  return pid === 0 ? NONE : String(pid);
}

/** Every column there is, in the order `interproc help ls` lists them. */
export const LS_COLUMNS: readonly LsColumn[] = [
  { name: 'namespace', right: false, value: (record) => record.namespace },
  { name: 'kind', right: false, value: (record) => record.kind },
  { name: 'name', right: false, value: (record) => record.name },
  { name: 'pid', right: true, value: (record) => text(record.creatorPid) },
  { name: 'user', right: false, value: (record) => (record.uid === null ? NONE : userName(record.uid)) },
  { name: 'mode', right: false, value: (record) => text(record.mode) },
  { name: 'size', right: true, value: (record) => text(record.size) },
  storeColumn('messages', (store) => String(store.messages)),
  storeColumn('bytes', (store) => String(store.bytes)),
  storeColumn('capacity', (store) => capacityText(store.capacity)),
  storeColumn('maxbytes', (store) => (store.maxBytes === null ? 'none' : String(store.maxBytes))),
  storeColumn('senders', (store) => String(store.waitingSenders)),
  storeColumn('receivers', (store) => String(store.waitingReceivers)),
  storeColumn('sent', (store) => String(store.totalSent)),
  storeColumn('received', (store) => String(store.totalReceived)),
  storeColumn('lspid', (store) => pidText(store.lastSendPid)),
  storeColumn('lrpid', (store) => pidText(store.lastReceivePid)),
  { name: 'codec', right: false, value: (record) => record.store?.codec ?? NONE },
  { name: 'users', right: true, value: (record) => (record.creatorPid === null ? NONE : String(record.users.length)) },
  { name: 'status', right: false, value: (record) => statusWords(record) },
  { name: 'bridge', right: false, value: (record) => bridgesCell(record) },
];

/** The columns of `spec` ("kind,name,messages"), in its order. UsageError for a name that is no column. */
export function parseColumns(spec: string): LsColumn[] {
  const names = spec.split(',').map((name) => name.trim().toLowerCase());
  if (names.some((name) => name === '')) throw new UsageError(`-o takes column names separated by commas, not '${spec}'`);
  return names.map((name) => {
    const column = LS_COLUMNS.find((candidate) => candidate.name === name);
    if (column === undefined) throw new UsageError(`unknown column '${name}' in -o: use ${LS_COLUMNS.map((known) => known.name).join(', ')}`);
    return column;
  });
}

/** One table of `records` with `columns`: the title line alone when there are none. */
export function formatColumns(records: readonly ObjectRecord[], columns: readonly LsColumn[]): string {
  return formatTable(
    columns.map((column) => ({ title: column.name.toUpperCase(), right: column.right })),
    records.map((record) => columns.map((column) => column.value(record))),
  );
}
