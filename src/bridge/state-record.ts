// A running bridge's state for one of its mailboxes, as `interproc ls` and `top` show it: a
// small JSON file beside the mailbox in /dev/shm,
//   interproc.<namespace>.bridge.<direction>.<mailbox>
// rewritten by the bridge (state-file.ts) and read by the registry (registry/bridge-states.ts)
// and by the bridge's close, both through readStateText.
// It is advisory: nothing in the bridge depends on it. Its kind "bridge" is none of the
// object kinds, so listings do not take it for an object.
//
// The file is written by another process and is read as untrusted input: bounded in size,
// every field checked; a file that fails is reported as damaged, never believed in part.
// This module loads no NATS client: the registry imports it.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { PREFIX, SHM_DIR } from '../core/names.ts';

export type BridgeDirection = 'export' | 'import';

export const BRIDGE_STATE_VERSION = 1;
/** The longest state file read: a record is a few hundred bytes. */
export const MAX_STATE_BYTES = 4096;
/** The longest error text kept (longer ones are cut). */
export const MAX_ERROR_CHARS = 200;
const MAX_SERVER_CHARS = 512;
/** NAME_MAX on Linux. */
const MAX_FILE_NAME = 255;
/** Process ids are 31-bit on Linux, at least 1. */
const MAX_PID = 0x7fffffff;
/** Year 9999: a time a Date holds. */
const MAX_TIME_MS = 253_402_300_799_999;

export interface BridgeStateRecord {
  version: typeof BRIDGE_STATE_VERSION;
  direction: BridgeDirection;
  /** The bridge process, and when it started (clock ticks since boot; null when unknown): a reused pid is told apart. */
  pid: number;
  startTime: number | null;
  connected: boolean;
  /** The NATS server it is connected to, when connected. */
  server: string | null;
  /** Import: messages in the stream for this mailbox not yet delivered (JetStream's pending count at the last delivery). Export: null (the mailbox's own count is the lag). */
  pending: number | null;
  /** Export: messages published and acknowledged; import: messages delivered and acknowledged. */
  moved: number;
  lastError: { message: string; at: number } | null;
  /** When the bridge last wrote the record, ms since the epoch. */
  updatedAt: number;
}

/** The state file's name in SHM_DIR; null when it would be longer than a file name may be. */
export function stateFileName(namespace: string, direction: BridgeDirection, mailbox: string): string | null {
  const name = `${PREFIX}.${namespace}.bridge.${direction}.${mailbox}`;
  // Its temporary name is longer by three: both must fit.
  return tempFileName(namespace, direction, mailbox).length > MAX_FILE_NAME ? null : name;
}

export function stateFilePath(namespace: string, direction: BridgeDirection, mailbox: string): string | null {
  const name = stateFileName(namespace, direction, mailbox);
  return name === null ? null : `${SHM_DIR}/${name}`;
}

/**
 * The name a record is written under before it is renamed over the state file (so that a
 * reader sees a whole record or the previous one). One name per state file, not per
 * writer: a bridge killed between the write and the rename leaves it, and its successor's
 * next write reuses and renames it; `interproc rm --stale` removes it when no bridge runs.
 */
export function tempFileName(namespace: string, direction: BridgeDirection, mailbox: string): string {
  return `${PREFIX}.${namespace}.bridgetmp.${direction}.${mailbox}`;
}

/** The parts of a state file's name (or of its temporary one's: `temp`); null when it is neither. */
export function parseStateFileName(fileName: string): { namespace: string; direction: BridgeDirection; mailbox: string; temp: boolean } | null {
  const match = /^interproc\.([A-Za-z0-9_-]{1,64})\.(bridge|bridgetmp)\.(export|import)\.([A-Za-z0-9_-][A-Za-z0-9._-]{0,199})$/.exec(fileName);
  if (match === null) return null;
  return { namespace: match[1]!, temp: match[2] === 'bridgetmp', direction: match[3] as BridgeDirection, mailbox: match[4]! };
}

/** At most MAX_STATE_BYTES + 1 bytes of the file (one more tells it is too long); null when it is not there. */
export function readStateText(path: string): string | null {
  let fd: number;
  try {
    // O_NOFOLLOW: a link planted under the name is not followed; O_NONBLOCK: a FIFO does not hang the reader.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const buffer = Buffer.alloc(MAX_STATE_BYTES + 1);
    let length = 0;
    // Bounded: each read adds at least one byte until the buffer is full or the file ends.
    while (length < buffer.length) {
      const got = readSync(fd, buffer, length, buffer.length - length, null);
      if (got === 0) break;
      length += got;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

export function serializeState(record: BridgeStateRecord): string {
  return JSON.stringify(record);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_TIME_MS;
}

function isText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length <= max;
}

/** The record in `text`, or why it cannot be believed (a string). */
export function parseState(text: string, direction: BridgeDirection): BridgeStateRecord | string {
  if (text.length > MAX_STATE_BYTES) return `longer than ${MAX_STATE_BYTES} bytes`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (r.version !== BRIDGE_STATE_VERSION) return `version ${JSON.stringify(r.version)}, not ${BRIDGE_STATE_VERSION}`;
  if (r.direction !== direction) return `direction ${JSON.stringify(r.direction)} under a file named for ${direction}`;
  if (!Number.isSafeInteger(r.pid) || (r.pid as number) < 1 || (r.pid as number) > MAX_PID) return 'pid is not a pid';
  if (r.startTime !== null && !isCount(r.startTime)) return 'startTime is not a count of clock ticks';
  if (typeof r.connected !== 'boolean') return 'connected is not a boolean';
  if (r.server !== null && !isText(r.server, MAX_SERVER_CHARS)) return 'server is not a short string';
  if (r.pending !== null && !isCount(r.pending)) return 'pending is not a count';
  if (!isCount(r.moved)) return 'moved is not a count';
  if (!isTime(r.updatedAt)) return 'updatedAt is not a time';
  let lastError: BridgeStateRecord['lastError'] = null;
  if (r.lastError !== null) {
    const error = r.lastError as Record<string, unknown> | undefined;
    if (typeof error !== 'object' || error === null || !isText(error.message, MAX_ERROR_CHARS) || !isTime(error.at)) return 'lastError is not { message, at }';
    lastError = { message: error.message, at: error.at };
  }
  return {
    version: BRIDGE_STATE_VERSION,
    direction,
    pid: r.pid as number,
    startTime: r.startTime as number | null,
    connected: r.connected,
    server: r.server as string | null,
    pending: r.pending as number | null,
    moved: r.moved,
    lastError,
    updatedAt: r.updatedAt,
  };
}
