// A message queue's key from the name of its file, and a number key as a user types it. A
// number key (1 to 0xffffffff, as msgget's key_t seen unsigned) names its file as ipcs shows
// keys: "0x" and 8 lowercase hex digits ("0x0000002a" for 42: src/queue/queue-key.ts); a
// string key is the name itself. So the file of key 42 is
// /dev/shm/interproc.<namespace>.mq.0x0000002a, whoever opens it.
import { MAX_QUEUE_KEY } from '../queue/queue-key.ts';

/** What a number key's file is named: 0x and exactly 8 lowercase hex digits. */
const NUMBER_KEY_NAME = /^0x[0-9a-f]{8}$/;

/** The key a queue's file name stands for: a number for "0x0000002a", else the name (a string key). */
export function queueKey(name: string): number | string {
  if (!NUMBER_KEY_NAME.test(name)) return name;
  const key = Number.parseInt(name.slice(2), 16);
  // 0x00000000 is no key a queue is opened with (0 is IPC_PRIVATE): a string key then.
  return key > 0 ? key : name;
}

/**
 * A number key as a user types it, as ipcrm -Q takes one: decimal ("42") or hex ("0x2a",
 * any case, up to 8 digits), 1 to 0xffffffff; null for anything else.
 */
export function parseNumberKey(text: string): number | null {
  if (!/^(?:[1-9][0-9]{0,9}|0[xX][0-9a-fA-F]{1,8})$/.test(text)) return null;
  const key = Number(text.toLowerCase());
  return key >= 1 && key <= MAX_QUEUE_KEY ? key : null;
}
