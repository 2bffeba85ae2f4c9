// MessageQueue options → the store's configuration. The limits are Linux's defaults:
//   MSGMAX 8192   the longest message (a fixed limit here: send of a longer one is EINVAL);
//   MSGMNB 16384  the default byte capacity of a queue (maxBytes, changeable by set()).
// As on Linux, a queue holds at most as many messages as its maxBytes (msg_qnum may not
// pass msg_qbytes), so that zero-length messages cannot fill memory: the store's message
// capacity is the byte capacity, and set() changes both.
//
// There is no ring: a ring counts messages, and a queue is full by bytes (ring.ts
// ringSlotsFor), so every queue works in the store's list mode.
import { optionNames, validateBoolean, validateInteger, validateMode, validateOptions } from '../core/validate.ts';
import { type TrustedUids, validateTrustedUids } from '../core/trust.ts';
import { CODEC_IDS } from '../channel/codec.ts';
import * as L from '../channel/layout.ts';
import { bodyBytesFor, type StoreConfig } from '../channel/store.ts';
import { type CreatePlan } from '../channel/store-handle.ts';

/** Linux's MSGMAX: the longest message a queue takes. */
export const MAX_MESSAGE_BYTES = 8192;
/** Linux's MSGMNB: a queue's byte capacity unless `maxBytes` says otherwise. */
export const DEFAULT_QUEUE_BYTES = 16384;
/**
 * The largest byte capacity a queue may have (open's maxBytes, set()'s). Linux lets only a
 * privileged process go past MSGMNB; interproc lets the owner go up to 1 MiB.
 */
export const MAX_QUEUE_BYTES = 1 << 20;

/** Cell size: a message of up to 216 bytes takes one cell. */
const CELL_BYTES = L.DEFAULT_CELL_BYTES;
/** The arena a queue starts with and shrinks back to: 64 KiB. */
const INITIAL_CELLS = (64 * 1024) / CELL_BYTES;
/**
 * The cells a queue may ever need, for the largest capacity set() may give it: at most
 * MAX_QUEUE_BYTES messages (one cell each, plus one for a partly filled last cell) and
 * MAX_QUEUE_BYTES payload bytes. So the arena's limit never has to change with maxBytes.
 */
const MAX_CELLS = 2 * MAX_QUEUE_BYTES + Math.ceil(MAX_QUEUE_BYTES / (CELL_BYTES - L.CELL_HEADER_BYTES));

export interface MessageQueueOpenOptions {
  /** Create the queue when there is none (IPC_CREAT). Without it: ENOENT when there is none. */
  create?: boolean;
  /** With `create`: EEXIST when the queue exists (IPC_EXCL). Without `create` it changes nothing, as on Linux. */
  exclusive?: boolean;
  /** Permission bits of a queue this call creates (default 0o600); an existing queue keeps its own. */
  mode?: number;
  /** Byte capacity of a queue this call creates (default 16384, at most 1 MiB); an existing queue keeps its own. */
  maxBytes?: number;
  /**
   * Owners (uids) whose queue this process accepts: EPERM for a queue another user made
   * (default: this process's effective uid and root). 'any' accepts every owner, for a
   * queue shared between users on purpose. See docs/SECURITY.md.
   */
  trustedUids?: TrustedUids;
}

const OPEN_OPTIONS = optionNames<MessageQueueOpenOptions>({ create: true, exclusive: true, mode: true, maxBytes: true, trustedUids: true });

export interface QueueOpenPlan {
  create: boolean;
  exclusive: boolean;
  trusted: TrustedUids;
  creation: CreatePlan;
}

function optionalBoolean(value: unknown, name: string): boolean {
  return value === undefined ? false : validateBoolean(value, name);
}

export function validateQueueBytes(value: unknown, name = 'maxBytes'): number {
  return validateInteger(value, name, 1, MAX_QUEUE_BYTES);
}

/** The configuration of a queue of `maxBytes`. */
export function queueConfig(maxBytes: number): StoreConfig {
  return {
    capacity: maxBytes,
    maxBytes,
    maxMessageSize: MAX_MESSAGE_BYTES,
    messageSize: 0,
    failWhenFull: false,
    codecId: CODEC_IDS.bytes,
    cellBytes: CELL_BYTES,
    initialCells: INITIAL_CELLS,
    maxCells: MAX_CELLS,
    inflight: 0,
    ringSlots: 0,
    ringSlotBytes: 0,
  };
}

export function planQueueOpen(options: unknown): QueueOpenPlan {
  const given = validateOptions<MessageQueueOpenOptions>(options, 'options', OPEN_OPTIONS);
  const create = optionalBoolean(given.create, 'create');
  const exclusive = optionalBoolean(given.exclusive, 'exclusive');
  const mode = given.mode === undefined ? 0o600 : validateMode(given.mode);
  const maxBytes = given.maxBytes === undefined ? DEFAULT_QUEUE_BYTES : validateQueueBytes(given.maxBytes);
  const trusted = validateTrustedUids(given.trustedUids);
  const config = queueConfig(maxBytes);
  return { create, exclusive, trusted, creation: { config, bodyBytes: bodyBytesFor(config, INITIAL_CELLS), mode } };
}
