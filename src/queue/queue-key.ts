// What a MessageQueue key names. System V queues are found by a numeric key (ftok's or a
// constant both sides agree on); interproc takes that, or a name. Either way the queue is
// the file interproc.<namespace>.mq.<key name> in /dev/shm, so the same key from two
// unrelated processes (of one namespace) reaches the same queue:
//   a number key names itself as ipcs shows keys: 42 → "0x0000002a" (8 hex digits, lower case);
//   a string key is its own name (the grammar of every object name: names.ts).
// The string "0x0000002a" is thus the same queue as the number 42, as ipcs would show it.
// key_t is a signed 32-bit int in C, so ftok gives a negative key when proj_id >= 0x80: a
// negative key is the same key as its unsigned 32 bits (-1 is 0xffffffff), as ipcs shows it.
// Key 0 is IPC_PRIVATE on Linux (a new queue reachable only by its id); interproc has no
// ids to hand around, so 0 is EINVAL: use a key of your own.
import { IpcError } from '../core/errors.ts';
import { objectFileName, validateName } from '../core/names.ts';
import { ObjectKindCode } from '../core/object-header.ts';
import { invalidType, outOfRange } from '../core/validate.ts';
import { type StoreObject } from '../channel/store-handle.ts';

export type QueueKey = number | string;

/** Largest numeric key: key_t is 32 bits wide. */
export const MAX_QUEUE_KEY = 0xffffffff;
/** Smallest numeric key: key_t as C's signed int. */
const MIN_QUEUE_KEY = -0x80000000;

/** The name a numeric key's file carries, as ipcs shows it: 42 → "0x0000002a". */
export function numericKeyName(key: number): string {
  return `0x${key.toString(16).padStart(8, '0')}`;
}

/**
 * Checks a key: a number -2^31..0xffffffff other than 0 (EINVAL, see the header), negative
 * ones taken as their unsigned 32 bits, or a valid object name.
 */
export function validateQueueKey(key: unknown): QueueKey {
  if (typeof key === 'string') return validateName(key, 'key');
  if (typeof key !== 'number') throw invalidType('key', 'of type number or string', key);
  if (key === 0) {
    throw new IpcError('EINVAL', 'key 0 is IPC_PRIVATE, which interproc does not offer (a queue nobody else could find): use a key of your own');
  }
  if (!Number.isInteger(key) || key < MIN_QUEUE_KEY || key > MAX_QUEUE_KEY) {
    throw outOfRange('key', `an integer >= ${MIN_QUEUE_KEY} (key_t as C's int) and <= ${MAX_QUEUE_KEY}, or a name`, key);
  }
  return key >>> 0;
}

/** The store-backed object a (valid) key stands for, in the current namespace. */
export function queueObject(key: QueueKey): StoreObject {
  const name = typeof key === 'number' ? numericKeyName(key) : key;
  return {
    kind: ObjectKindCode.MessageQueue,
    path: `/${objectFileName('mq', name)}`,
    what: typeof key === 'number' ? `message queue ${name}` : `message queue "${name}"`,
  };
}
