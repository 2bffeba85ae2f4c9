// The rows of `interproc top`: each object `ls` lists, with what top adds to the registry's
// record: how full it is, and its send and receive rates per second, measured as the change
// of its store's totals between two samples. Nothing here reads shared memory: the records
// come from the registry (read-only), and every figure taken from them is checked before it
// is divided or compared, since the registry passes on what another process wrote.
import type { ObjectRecord } from '../registry/index.ts';

/** What the registry listed at one moment. */
export interface Sample {
  /** When the listing was taken: performance.now(), in ms. */
  at: number;
  records: readonly ObjectRecord[];
}

export interface TopRow {
  record: ObjectRecord;
  /**
   * How full the store is, 0 to 1: the fuller of messages/capacity and bytes/maxBytes; null
   * when it has neither bound, has a capacity of 0, or is no store.
   */
  fill: number | null;
  /** Messages sent and received per second since the previous sample; null when that cannot be told. */
  sendRate: number | null;
  receiveRate: number | null;
}

/** The keys top sorts by, in the order the `s` key cycles through them. */
export const SORT_KEYS = ['name', 'fill', 'messages', 'bytes', 'send', 'receive', 'waiting'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export function isSortKey(value: string): value is SortKey {
  return (SORT_KEYS as readonly string[]).includes(value);
}

/** The key after `key`, back to the first after the last. */
export function nextSortKey(key: SortKey): SortKey {
  return SORT_KEYS[(SORT_KEYS.indexOf(key) + 1) % SORT_KEYS.length]!;
}

/** The rows of `current`, with rates against `previous` (null: the first sample, no rates yet). */
export function rowsOf(current: Sample, previous: Sample | null): TopRow[] {
  const seconds = previous === null ? 0 : (current.at - previous.at) / 1000;
  const before = new Map<string, ObjectRecord>();
  if (previous !== null) for (const record of previous.records) before.set(identity(record), record);
  return current.records.map((record) => {
    const earlier = seconds > 0 ? before.get(identity(record)) : undefined;
    const now = record.store;
    const then = earlier?.store ?? null;
    return {
      record,
      fill: fillOf(record),
      sendRate: now === null || then === null ? null : rate(now.totalSent - then.totalSent, seconds),
      receiveRate: now === null || then === null ? null : rate(now.totalReceived - then.totalReceived, seconds),
    };
  });
}

/**
 * Which object a record is, across samples: its file, and who made it when. An object
 * removed and made again under the same name between two samples is another object, whose
 * totals start again from 0: comparing them with the old one's would make up a rate.
 */
function identity(record: ObjectRecord): string {
  return `${record.namespace}/${record.kind}/${record.name}/${record.creatorPid}/${record.createdAt}`;
}

/** A count's change per second; null for a change no store's totals make (they only grow). */
function rate(change: number, seconds: number): number | null {
  return Number.isFinite(change) && change >= 0 ? change / seconds : null;
}

function fillOf(record: ObjectRecord): number | null {
  const store = record.store;
  // A zero-capacity store (a rendezvous) buffers nothing: "full" says nothing about it,
  // whatever byte budget it has.
  if (store === null || store.capacity === 0) return null;
  const byCount = store.capacity === null || store.capacity < 0 ? null : store.messages / store.capacity;
  const byBytes = store.maxBytes === null || store.maxBytes <= 0 ? null : store.bytes / store.maxBytes;
  if (byCount === null && byBytes === null) return null;
  // A damaged count may claim more than the bound: the bar is full, not longer.
  return Math.min(1, Math.max(byCount ?? 0, byBytes ?? 0));
}

/** Rows in the order of `key`: by name as `ls` lists (the registry's order), else the largest first, ties by name. */
export function sortRows(rows: readonly TopRow[], key: SortKey): TopRow[] {
  const ordered = [...rows];
  if (key === 'name') return ordered;
  const value = (row: TopRow): number => {
    const store = row.record.store;
    switch (key) {
      case 'fill':
        return row.fill ?? -1;
      case 'messages':
        return store?.messages ?? -1;
      case 'bytes':
        return store?.bytes ?? -1;
      case 'send':
        return row.sendRate ?? -1;
      case 'receive':
        return row.receiveRate ?? -1;
      case 'waiting':
        return store === null ? -1 : store.waitingSenders + store.waitingReceivers;
    }
  };
  // Array.prototype.sort is stable: equal values keep the registry's order, by name.
  return ordered.sort((a, b) => value(b) - value(a));
}
