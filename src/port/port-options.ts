// Port options → the store's configuration. A port is the lecture's: a fixed amount of
// memory, a bounded buffer of variable-length messages up to a maximum, asynchronous
// sends. So capacity is a number of messages >= 1 (no zero capacity, no unbounded
// buffer), and the byte budget defaults to exactly capacity × maxMessageSize, which lets
// plain traffic take the store's lock-free ring.
import { MAX_PORT, MIN_PORT } from './port-table.ts';
import { IpcError } from '../core/errors.ts';
import { optionNames, validateInteger, validateOptions } from '../core/validate.ts';
import type { Codec, CodecName } from '../channel/codec.ts';
import { MAX_BYTES_LIMIT, MAX_CAPACITY, planMailbox, type MailboxPlan } from '../mailbox/mailbox-options.ts';

export interface PortOptions<T = unknown> {
  /** The port's number, 1..65535; left out, a free one is allocated. */
  number?: number;
  /** Messages buffered, >= 1 (default 64). */
  capacity?: number;
  /** Byte budget of the buffered payloads (default capacity × maxMessageSize). */
  maxBytes?: number;
  /** Longest message in bytes (default 1024). */
  maxMessageSize?: number;
  /** How values become bytes: 'structured' (v8 serializer, default), 'json', 'utf8', 'bytes', or your own (senders pass the same). */
  codec?: CodecName | Codec<T>;
}

export const DEFAULT_PORT_CAPACITY = 64;
export const DEFAULT_PORT_MAX_MESSAGE_SIZE = 1024;
/** A port's file is its owner's user's only: senders run as the same user. */
export const PORT_MODE = 0o600;

export interface PortPlan extends MailboxPlan {
  /** The number asked for; undefined: allocate one. */
  number: number | undefined;
}

const CREATE_OPTIONS = optionNames<PortOptions>({ number: true, capacity: true, maxBytes: true, maxMessageSize: true, codec: true });

export function planPort(options: unknown): PortPlan {
  const given = validateOptions<PortOptions>(options, 'options', CREATE_OPTIONS);
  const number = given.number === undefined ? undefined : validateInteger(given.number, 'number', MIN_PORT, MAX_PORT);
  const capacity = given.capacity === undefined ? DEFAULT_PORT_CAPACITY : validateInteger(given.capacity, 'capacity', 1, MAX_CAPACITY);
  const maxMessageSize =
    given.maxMessageSize === undefined ? DEFAULT_PORT_MAX_MESSAGE_SIZE : validateInteger(given.maxMessageSize, 'maxMessageSize', 1, MAX_BYTES_LIMIT);
  const maxBytes =
    given.maxBytes === undefined ? Math.min(capacity * maxMessageSize, MAX_BYTES_LIMIT) : validateInteger(given.maxBytes, 'maxBytes', 1, MAX_BYTES_LIMIT);
  if (maxBytes < maxMessageSize) {
    throw new IpcError('EINVAL', `maxBytes ${maxBytes} cannot hold one message of maxMessageSize ${maxMessageSize}: give a larger maxBytes or a smaller maxMessageSize`);
  }
  const plan = planMailbox({ capacity, maxBytes, maxMessageSize, codec: given.codec, mode: PORT_MODE, whenFull: 'block' });
  return { ...plan, number };
}
