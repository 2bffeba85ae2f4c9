// How named objects read on a terminal: the rows of `interproc ls` and the page of
// `interproc stat`. (--json prints the registry's records as they are; docs/CLI.md lists
// their fields.)
import type { ObjectRecord } from '../registry/index.ts';
import { formatTable, type Column } from './table.ts';

const NONE = '-';

/** "ok", or what is special about the object: "stale", "damaged", "incomplete,stale", "removed", ... */
export function statusWords(record: ObjectRecord): string {
  const words: string[] = [];
  if (record.status !== 'ok') words.push(record.status);
  if (record.stale) words.push('stale');
  if (record.removed) words.push('removed');
  return words.length === 0 ? 'ok' : words.join(',');
}

function capacityText(capacity: number | null): string {
  return capacity === null ? 'unbounded' : String(capacity);
}

/** The table of `interproc ls`; with a NAMESPACE column when several namespaces are shown. */
export function formatListing(records: readonly ObjectRecord[], withNamespace: boolean): string {
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
  const mailbox = record.mailbox;
  if (mailbox !== null) {
    lines.push(
      ['capacity', mailbox.capacity === null ? 'unbounded' : `${mailbox.capacity} messages`],
      ['maxBytes', mailbox.maxBytes === null ? 'none' : String(mailbox.maxBytes)],
      ['maxMessageSize', String(mailbox.maxMessageSize)],
      ['messageSize', mailbox.messageSize === 0 ? 'variable' : String(mailbox.messageSize)],
      ['whenFull', mailbox.whenFull],
      ['codec', mailbox.codec],
      ['queue', mailbox.queue === 'ring' ? 'ring (lock-free, plain traffic)' : 'list'],
      ['messages', String(mailbox.messages)],
      ['bytes', String(mailbox.bytes)],
      ['waiting senders', String(mailbox.waitingSenders)],
      ['waiting receivers', String(mailbox.waitingReceivers)],
      ['total sent', String(mailbox.totalSent)],
      ['total received', String(mailbox.totalReceived)],
      ['last send', mailbox.lastSendPid === 0 ? 'never' : `pid ${mailbox.lastSendPid} at ${time(mailbox.lastSendTime)}`],
      ['last receive', mailbox.lastReceivePid === 0 ? 'never' : `pid ${mailbox.lastReceivePid} at ${time(mailbox.lastReceiveTime)}`],
      ['repairs', String(mailbox.repairs)],
      ['arena', `${mailbox.cells} cells of ${mailbox.cellBytes} bytes`],
    );
  }
  const width = Math.max(...lines.map(([key]) => key.length)) + 2;
  return `${record.kind}/${record.name}\n${lines.map(([key, value]) => `  ${key.padEnd(width)}${value}\n`).join('')}`;
}
