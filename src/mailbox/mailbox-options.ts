// Mailbox options → the store's configuration: defaults, limits and the arena's size.
import { IpcError } from '../core/errors.ts';
import { invalidType, optionNames, outOfRange, validateInteger, validateMode, validateOptions } from '../core/validate.ts';
import { codecByName, type Codec, type CodecName } from '../channel/codec.ts';
import { MAX_ORIGIN_PREFIX } from '../channel/origin.ts';
import * as L from '../channel/layout.ts';
import { ringSlotsFor } from '../channel/ring.ts';
import { bodyBytesFor, type StoreConfig } from '../channel/store.ts';

export interface MailboxOptions<T = unknown> {
  /** Messages buffered: 0 = zero capacity (rendezvous), n = bounded (default 1024), Infinity = unbounded. */
  capacity?: number;
  /**
   * Byte budget of the buffered payloads (default 1 MiB, or one message of maxMessageSize if
   * that is larger; capacity × messageSize for fixed-size messages). Given together with a
   * message size it cannot hold even once: EINVAL.
   */
  maxBytes?: number;
  /** Variable length up to this many bytes (default 64 KiB)... */
  maxMessageSize?: number;
  /** ...or fixed length: every message exactly this many bytes. */
  messageSize?: number;
  /** When the buffer is full, send() waits ('block', default) or rejects with EAGAIN ('fail'). */
  whenFull?: 'block' | 'fail';
  /** How values become bytes: 'structured' (v8 serializer, default), 'json', 'utf8', 'bytes', or your own. */
  codec?: CodecName | Codec<T>;
  /** Permission bits of the mailbox's file (default 0o600). */
  mode?: number;
}

export const DEFAULT_CAPACITY = 1024;
export const DEFAULT_MAX_BYTES = 1 << 20;
export const DEFAULT_MAX_MESSAGE_SIZE = 1 << 16;
export const MAX_CAPACITY = 1 << 24;
export const MAX_BYTES_LIMIT = 1 << 30;
/** Zero capacity: offers that may wait for a receiver at once. */
export const ZERO_CAPACITY_INFLIGHT = 64;
/** Arena a store starts with (and shrinks back to). */
export const INITIAL_ARENA_BYTES = 64 * 1024;

export interface MailboxPlan {
  config: StoreConfig;
  bodyBytes: number;
  codec: Codec<unknown>;
  mode: number;
}

function optionalInteger(value: unknown, name: string, min: number, max: number): number | undefined {
  return value === undefined ? undefined : validateInteger(value, name, min, max);
}

/** What a capacity makes of the other limits: the byte budget, the cells and the ring. */
interface Arena {
  maxBytes: number;
  cellBytes: number;
  perMessage: number;
  ring: { slots: number; slotBytes: number };
  /** Cells the arena may need at worst, and cells one store can hold. */
  worstCase: number;
  storeCells: number;
}

function arenaFor(capacity: number, maxBytesGiven: number | undefined, messageSize: number, maxMessageSize: number): Arena {
  const slots = capacity === 0 ? ZERO_CAPACITY_INFLIGHT : capacity;
  // Unbounded means no byte budget either, unless one is given.
  const maxBytes =
    maxBytesGiven ??
    (capacity === L.UNBOUNDED
      ? L.UNBOUNDED
      : messageSize !== 0
        ? Math.min(slots * messageSize, MAX_BYTES_LIMIT)
        : // The default budget holds at least one message of the largest size allowed.
          Math.max(DEFAULT_MAX_BYTES, maxMessageSize));

  // Cells: one per message for fixed sizes (up to 64 KiB); 256 bytes for variable ones,
  // smaller when every message fits in less.
  const largest = maxBytes === L.UNBOUNDED ? maxMessageSize : Math.min(maxMessageSize, maxBytes);
  const cellBytes =
    messageSize !== 0 && L.MSG_HEADER_BYTES + messageSize <= L.MAX_FIXED_CELL_BYTES
      ? L.roundUp8(L.MSG_HEADER_BYTES + messageSize)
      : Math.max(L.MIN_CELL_BYTES, Math.min(L.DEFAULT_CELL_BYTES, L.roundUp8(L.MSG_HEADER_BYTES + largest)));
  // A bounded arena may grow to the worst case its limits allow: each message takes at
  // most 2 + (length + prefix) / (cellBytes - 8) cells, and the lengths add up to at most
  // maxBytes (the prefix, up to MAX_ORIGIN_PREFIX, of a message from another machine).
  // An unbounded one may grow until one store reaches MAX_STORE_BYTES.
  const perMessage = L.cellsFor(largest, cellBytes);
  // A message from another machine stores its host before its data (channel/origin.ts),
  // which the limits do not count: its cells are in the worst case all the same.
  const perMessageFromAfar = L.cellsFor(largest + MAX_ORIGIN_PREFIX, cellBytes);
  // Plain traffic goes through a lock-free ring when every message fits a slot and the
  // ring stays small (channel/ring.ts); the ring sits between control block and arena.
  const ring = capacity > 0 ? ringSlotsFor(capacity, maxMessageSize, maxBytes) : { slots: 0, slotBytes: 0 };
  const arenaStart = L.CONTROL_BYTES + ring.slots * ring.slotBytes;
  const storeCells = Math.floor((L.MAX_STORE_BYTES - arenaStart) / cellBytes);
  const worstCase =
    capacity === L.UNBOUNDED
      ? storeCells
      : Math.max(
          perMessageFromAfar,
          Math.min(slots * perMessageFromAfar, 2 * slots + Math.floor((maxBytes + slots * MAX_ORIGIN_PREFIX) / (cellBytes - L.CELL_HEADER_BYTES))),
        );
  return { maxBytes, cellBytes, perMessage, ring, worstCase, storeCells };
}

/**
 * A capacity too large for one store, as the error that names it. maxBytes and
 * maxMessageSize alone never overflow a store (each is at most 1 GiB, a quarter of it):
 * only the per-message cells of a large capacity do, so capacity is the option to blame.
 * The error tells a capacity that fits with the other limits as given (found by halving).
 */
function capacityTooLarge(capacity: number, maxBytesGiven: number | undefined, messageSize: number, maxMessageSize: number): RangeError {
  const fits = (n: number): boolean => {
    const arena = arenaFor(n, maxBytesGiven, messageSize, maxMessageSize);
    return arena.worstCase <= arena.storeCells;
  };
  let fitting = 0;
  let failing = capacity;
  while (failing - fitting > 1) {
    const middle = Math.floor((fitting + failing) / 2);
    if (fits(middle)) fitting = middle;
    else failing = middle;
  }
  return outOfRange(
    'capacity',
    `small enough for the buffer's worst case to fit in one store of ${L.MAX_STORE_BYTES} bytes ` +
      `(with maxMessageSize ${maxMessageSize}${maxBytesGiven === undefined ? '' : ` and maxBytes ${maxBytesGiven}`}, ${fitting} fits)`,
    capacity,
  );
}

/** The mode option: left out (undefined) is the default; null is not left out, and fails as any non-number. */
function optionalMode(value: unknown): number {
  return value === undefined ? 0o600 : validateMode(value);
}

const CREATE_OPTIONS = optionNames<MailboxOptions>({
  capacity: true,
  maxBytes: true,
  maxMessageSize: true,
  messageSize: true,
  whenFull: true,
  codec: true,
  mode: true,
});

export function planMailbox(options: unknown): MailboxPlan {
  const given = validateOptions<MailboxOptions>(options, 'options', CREATE_OPTIONS);
  const mode = optionalMode(given.mode);
  const { codec, id: codecId } = codecByName(given.codec === undefined ? 'structured' : given.codec);

  const capacity =
    given.capacity === Infinity ? L.UNBOUNDED : (optionalInteger(given.capacity, 'capacity', 0, MAX_CAPACITY) ?? DEFAULT_CAPACITY);
  if (given.whenFull !== undefined && given.whenFull !== 'block' && given.whenFull !== 'fail') {
    throw invalidType('whenFull', "'block' or 'fail'", given.whenFull);
  }
  const messageSize = optionalInteger(given.messageSize, 'messageSize', 1, MAX_BYTES_LIMIT) ?? 0;
  let maxMessageSize = optionalInteger(given.maxMessageSize, 'maxMessageSize', 1, MAX_BYTES_LIMIT);
  if (messageSize !== 0) {
    if (maxMessageSize !== undefined && maxMessageSize !== messageSize) {
      throw new IpcError('EINVAL', 'give messageSize (fixed length) or maxMessageSize (variable length), not both');
    }
    maxMessageSize = messageSize;
  }
  maxMessageSize ??= DEFAULT_MAX_MESSAGE_SIZE;
  const maxBytesGiven = optionalInteger(given.maxBytes, 'maxBytes', 1, MAX_BYTES_LIMIT);
  const sizeGiven = given.maxMessageSize !== undefined || messageSize !== 0;
  if (maxBytesGiven !== undefined && sizeGiven && maxBytesGiven < maxMessageSize) {
    // Every message longer than the whole budget would fail with EMSGSIZE: say so now.
    const size = messageSize !== 0 ? `messageSize ${messageSize}` : `maxMessageSize ${maxMessageSize}`;
    throw new IpcError('EINVAL', `maxBytes ${maxBytesGiven} cannot hold one message of ${size}: give a larger maxBytes or a smaller message size`);
  }
  const { maxBytes, cellBytes, perMessage, ring, worstCase, storeCells } = arenaFor(capacity, maxBytesGiven, messageSize, maxMessageSize);
  if (worstCase > storeCells) throw capacityTooLarge(capacity, maxBytesGiven, messageSize, maxMessageSize);
  // It starts with room for about 64 KiB (at least two of the largest messages) and
  // shrinks back to that whenever it drains.
  const initialCells = Math.min(worstCase, Math.max(2 * perMessage, Math.floor(INITIAL_ARENA_BYTES / cellBytes)));
  const config: StoreConfig = {
    capacity,
    maxBytes,
    maxMessageSize,
    messageSize,
    failWhenFull: given.whenFull === 'fail',
    codecId,
    cellBytes,
    initialCells,
    maxCells: worstCase,
    inflight: capacity === 0 ? ZERO_CAPACITY_INFLIGHT : 0,
    ringSlots: ring.slots,
    ringSlotBytes: ring.slotBytes,
  };
  const bodyBytes = bodyBytesFor(config, initialCells);
  return { config, bodyBytes, codec, mode };
}
