// How named objects read on a terminal: the rows of `interproc ls` and the page of
// `interproc stat`. (--json prints the registry's records as they are; docs/CLI.md lists
// their fields.)
import type { ObjectRecord } from '../registry/index.ts';
import type { StoreSnapshot } from '../channel/snapshot.ts';
import { bridgeLines, bridgeTable } from './bridge-text.ts';
import { formatTable, type Column } from './table.ts';
import { userName } from './user-names.ts';

/** The name of a namespace's port table among its port objects (src/port/port-table.ts). */
const PORT_TABLE_NAME = 'table';

const NONE = '-';

/** "ok", or what is special about the object: "stale", "damaged", "incomplete,stale", "removed", ... */
export function statusWords(record: ObjectRecord): string {
  const words: string[] = [];
  if (record.status !== 'ok') words.push(record.status);
  if (record.stale) words.push('stale');
  if (record.removed) words.push('removed');
  return words.length === 0 ? 'ok' : words.join(',');
}

export function capacityText(capacity: number | null): string {
  return capacity === null ? 'unbounded' : String(capacity);
}

/**
 * The tables of `interproc ls`, with a NAMESPACE column when several namespaces are shown:
 * segments and mailboxes (and whatever else is listed, such as a namespace's port table) in
 * one, then, as ipcs shows each kind with its own columns, one of message queues and one of
 * ports when there are any. With nothing listed, the first table's title line alone.
 */
export function formatListing(records: readonly ObjectRecord[], withNamespace: boolean): string {
  const queues = records.filter((record) => record.kind === 'mq');
  const ports = records.filter((record) => record.kind === 'port' && !isPortTable(record));
  const others = records.filter((record) => !queues.includes(record) && !ports.includes(record));
  const tables: string[] = [];
  if (others.length > 0 || queues.length + ports.length === 0) tables.push(objectTable(others, withNamespace));
  if (queues.length > 0) tables.push(`MESSAGE QUEUES\n${queueTable(queues, withNamespace)}`);
  if (ports.length > 0) tables.push(`PORTS\n${portTable(ports, withNamespace)}`);
  const bridged = records.filter((record) => record.bridges.length > 0);
  if (bridged.length > 0) tables.push(`BRIDGES\n${bridgeTable(bridged, withNamespace)}`);
  return tables.join('\n');
}

function isPortTable(record: ObjectRecord): boolean {
  return record.name === PORT_TABLE_NAME;
}

function objectTable(records: readonly ObjectRecord[], withNamespace: boolean): string {
  const columns: Column[] = [
    ...(withNamespace ? [{ title: 'NAMESPACE' }] : []),
    { title: 'KIND' },
    { title: 'NAME' },
    { title: 'PID', right: true },
    { title: 'MODE' },
    { title: 'SIZE', right: true },
    { title: 'MESSAGES', right: true },
    { title: 'BYTES', right: true },
    { title: 'CAPACITY', right: true },
    { title: 'SENDERS', right: true },
    { title: 'RECEIVERS', right: true },
    { title: 'STATUS' },
  ];
  const rows = records.map((record) => {
    const mailbox = record.mailbox;
    return [
      ...(withNamespace ? [record.namespace] : []),
      record.kind,
      record.name,
      record.creatorPid === null ? NONE : String(record.creatorPid),
      record.mode ?? NONE,
      record.size === null ? NONE : String(record.size),
      mailbox === null ? NONE : String(mailbox.messages),
      mailbox === null ? NONE : String(mailbox.bytes),
      mailbox === null ? NONE : capacityText(mailbox.capacity),
      mailbox === null ? NONE : String(mailbox.waitingSenders),
      mailbox === null ? NONE : String(mailbox.waitingReceivers),
      statusWords(record),
    ];
  });
  return formatTable(columns, rows);
}

/**
 * Message queues as ipcs -q shows them: KEY (a number key in 8 hex digits, or the string
 * key), the mode and owner of the file, what it holds, its limit in bytes, the last sender's
 * and receiver's pids (LSPID, LRPID, "-" for none yet), the senders and receivers waiting.
 */
function queueTable(records: readonly ObjectRecord[], withNamespace: boolean): string {
  const columns: Column[] = [
    ...(withNamespace ? [{ title: 'NAMESPACE' }] : []),
    { title: 'KEY' },
    { title: 'MODE' },
    { title: 'OWNER' },
    { title: 'MESSAGES', right: true },
    { title: 'BYTES', right: true },
    { title: 'MAXBYTES', right: true },
    { title: 'LSPID', right: true },
    { title: 'LRPID', right: true },
    { title: 'SENDERS', right: true },
    { title: 'RECEIVERS', right: true },
    { title: 'STATUS' },
  ];
  const rows = records.map((record) => {
    const store = record.store;
    return [
      ...(withNamespace ? [record.namespace] : []),
      record.name,
      record.mode ?? NONE,
      record.uid === null ? NONE : userName(record.uid),
      store === null ? NONE : String(store.messages),
      store === null ? NONE : String(store.bytes),
      store === null ? NONE : store.maxBytes === null ? 'none' : String(store.maxBytes),
      store === null || store.lastSendPid === 0 ? NONE : String(store.lastSendPid),
      store === null || store.lastReceivePid === 0 ? NONE : String(store.lastReceivePid),
      store === null ? NONE : String(store.waitingSenders),
      store === null ? NONE : String(store.waitingReceivers),
      statusWords(record),
    ];
  });
  return formatTable(columns, rows);
}

/**
 * Ports: NUMBER, the owner's pid and whether it runs (a port whose owner is dead refuses
 * senders and is stale), what the port holds, its capacity in messages and the senders
 * waiting for room.
 */
function portTable(records: readonly ObjectRecord[], withNamespace: boolean): string {
  const columns: Column[] = [
    ...(withNamespace ? [{ title: 'NAMESPACE' }] : []),
    { title: 'NUMBER', right: true },
    { title: 'OWNER', right: true },
    { title: 'STATE' },
    { title: 'MODE' },
    { title: 'MESSAGES', right: true },
    { title: 'BYTES', right: true },
    { title: 'CAPACITY', right: true },
    { title: 'SENDERS', right: true },
    { title: 'STATUS' },
  ];
  const rows = records.map((record) => {
    const { store, port } = record;
    return [
      ...(withNamespace ? [record.namespace] : []),
      port === null ? record.name : String(port.number),
      port?.ownerPid == null ? NONE : String(port.ownerPid),
      port?.ownerAlive == null ? NONE : alive(port.ownerAlive),
      record.mode ?? NONE,
      store === null ? NONE : String(store.messages),
      store === null ? NONE : String(store.bytes),
      store === null ? NONE : capacityText(store.capacity),
      store === null ? NONE : String(store.waitingSenders),
      statusWords(record),
    ];
  });
  return formatTable(columns, rows);
}

function time(ms: number | null): string {
  return ms === null || ms === 0 ? 'never' : new Date(ms).toISOString();
}

function alive(isAlive: boolean): string {
  return isAlive ? 'alive' : 'dead';
}

/** The page of `interproc stat`: every field, one per line. */
export function formatDetails(record: ObjectRecord): string {
  const lines: Array<[string, string]> = [
    ['namespace', record.namespace],
    ['file', record.path],
    ['status', record.status],
  ];
  if (record.problem !== null) lines.push(['problem', record.problem]);
  lines.push(['stale', record.stale ? 'yes: its creator and every user have exited' : 'no']);
  if (record.mode !== null) lines.push(['mode', record.mode]);
  if (record.uid !== null) lines.push(['owner uid', String(record.uid)]);
  if (record.size !== null) lines.push(['size', `${record.size} bytes${record.bodyBytes === null ? '' : ` (header 256, body declared ${record.bodyBytes})`}`]);
  if (record.version !== null) lines.push(['layout version', String(record.version)]);
  if (record.flags !== null) lines.push(['flags', `0x${(record.flags >>> 0).toString(16)}${record.removed ? ' (removed)' : ''}`]);
  if (record.creatorPid !== null) lines.push(['creator', `pid ${record.creatorPid} (${alive(record.creatorAlive === true)})`]);
  if (record.createdAt !== null) lines.push(['created', time(record.createdAt)]);
  if (record.creatorPid !== null) {
    lines.push(['users', record.users.length === 0 ? 'none' : record.users.map((user) => `${user.pid} (${alive(user.alive)})`).join(', ')]);
  }
  const port = record.port;
  if (port !== null) {
    lines.push(['number', String(port.number)], ['generation', `${port.generation}${port.current ? '' : " (not the port table's: a leftover)"}`]);
    if (port.ownerPid !== null) {
      const thread = port.ownerTid === null || port.ownerTid === port.ownerPid ? '' : `, thread ${port.ownerTid}`;
      lines.push(['owner', `pid ${port.ownerPid}${thread} (${alive(port.ownerAlive === true)})`]);
    }
  }
  const queue = record.queue;
  if (queue !== null) {
    lines.push(['key', typeof queue.key === 'number' ? `${queue.key} (${record.name})` : JSON.stringify(queue.key)]);
    if (queue.changeTime !== null) lines.push(['changed', time(queue.changeTime)]);
  }
  if (record.store !== null) lines.push(...storeLines(record.store));
  lines.push(...bridgeLines(record));
  const width = Math.max(...lines.map(([key]) => key.length)) + 2;
  return `${record.kind}/${record.name}\n${lines.map(([key, value]) => `  ${key.padEnd(width)}${value}\n`).join('')}`;
}

/** The configuration and figures of an object built on the message store. */
function storeLines(store: StoreSnapshot): Array<[string, string]> {
  return [
    ['capacity', store.capacity === null ? 'unbounded' : `${store.capacity} messages`],
    ['maxBytes', store.maxBytes === null ? 'none' : String(store.maxBytes)],
    ['maxMessageSize', String(store.maxMessageSize)],
    ['messageSize', store.messageSize === 0 ? 'variable' : String(store.messageSize)],
    ['whenFull', store.whenFull],
    ['codec', store.codec],
    ['queue', store.queue === 'ring' ? 'ring (lock-free, plain traffic)' : 'list'],
    ['messages', String(store.messages)],
    ['bytes', String(store.bytes)],
    ['waiting senders', String(store.waitingSenders)],
    ['waiting receivers', String(store.waitingReceivers)],
    ['total sent', String(store.totalSent)],
    ['total received', String(store.totalReceived)],
    ['last send', store.lastSendPid === 0 ? 'never' : `pid ${store.lastSendPid} at ${time(store.lastSendTime)}`],
    ['last receive', store.lastReceivePid === 0 ? 'never' : `pid ${store.lastReceivePid} at ${time(store.lastReceiveTime)}`],
    ['repairs', String(store.repairs)],
    ['arena', `${store.cells} cells of ${store.cellBytes} bytes`],
  ];
}
