// Writes a bridge's state records (state-record.ts): one per bridged mailbox, rewritten
// every STATE_INTERVAL_MS and at once when the connection changes or an error is recorded;
// removed on a clean close. A record is written to a temporary file and renamed over the
// state file, so that a reader sees a whole record, never half of one. A restarted bridge's
// records replace its dead predecessor's under the same names.
//
// The records are private to the bridge's user (mode 0600, as a mailbox's default): error
// texts may name servers and accounts. The records are advisory: a failure to write one (a full /dev/shm) is not the bridge's
// failure, and is dropped.
//
// /dev/shm is writable by every user: whatever another process left under a record's names
// (a directory, a link, a FIFO, another user's file) must neither stop the bridge nor be
// written through. The temporary file is always made anew by this process (O_EXCL: never a
// link followed, never another's file reused), and the record is read back bounded and
// without following links.
import { closeSync, constants, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { SHM_DIR } from '../core/names.ts';
import { currentThreadStartTime, isThreadAlive } from '../core/liveness.ts';
import { BRIDGE_STATE_VERSION, parseState, readStateText, serializeState, stateFilePath, tempFileName, type BridgeDirection, type BridgeStateRecord } from './state-record.ts';

/**
 * Writes `text` to a file this process makes under `path` (mode 0600). What was there is
 * removed first (a killed predecessor's half-written record); should that fail (a directory,
 * another user's file), the exclusive create fails too, and nothing is written.
 */
function writeNewFile(path: string, text: string): void {
  rmSync(path, { force: true });
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

function removeIfAllowed(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // A directory, or another user's file in the sticky /dev/shm: not this bridge's to remove.
  }
}

/**
 * The pid of a running bridge that moves `mailbox` in `direction` (this process included),
 * by its state record; null when none runs, or its record cannot be read or believed.
 */
export function runningBridgePid(namespace: string, direction: BridgeDirection, mailbox: string): number | null {
  const path = stateFilePath(namespace, direction, mailbox);
  if (path === null) return null;
  let text: string | null;
  try {
    text = readStateText(path);
  } catch {
    return null;
  }
  if (text === null) return null;
  const record = parseState(text, direction);
  if (typeof record === 'string') return null;
  return isThreadAlive(record.pid, (startTime) => record.startTime === null || startTime === record.startTime) ? record.pid : null;
}

/** How often a running bridge rewrites its records, ms: what `ls` and `top` may lag behind. */
export const STATE_INTERVAL_MS = 250;

/** What the writer asks of a bridge for one mailbox's record. */
export type StateSource = () => Omit<BridgeStateRecord, 'version' | 'pid' | 'startTime' | 'updatedAt'>;

interface Entry {
  direction: BridgeDirection;
  mailbox: string;
  path: string;
  temp: string;
  source: StateSource;
}

export class BridgeStateWriter {
  readonly #entries: Entry[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #startTime = currentThreadStartTime();
  #closed = false;

  constructor(namespace: string, mailboxes: ReadonlyArray<{ direction: BridgeDirection; mailbox: string; source: StateSource }>) {
    for (const { direction, mailbox, source } of mailboxes) {
      const path = stateFilePath(namespace, direction, mailbox);
      // A name too long for a state file of its own: that mailbox's state is not shown.
      if (path === null) continue;
      this.#entries.push({ direction, mailbox, path, temp: `${SHM_DIR}/${tempFileName(namespace, direction, mailbox)}`, source });
    }
    this.write();
    this.#timer = setInterval(() => this.write(), STATE_INTERVAL_MS).unref();
  }

  /** Rewrites every record now. */
  write(): void {
    if (this.#closed) return;
    const now = Date.now();
    for (const entry of this.#entries) {
      const record: BridgeStateRecord = { version: BRIDGE_STATE_VERSION, pid: process.pid, startTime: this.#startTime, updatedAt: now, ...entry.source() };
      try {
        writeNewFile(entry.temp, serializeState(record));
        renameSync(entry.temp, entry.path);
      } catch {
        removeIfAllowed(entry.temp);
      }
    }
  }

  /** Stops rewriting and removes this process's records (one another bridge wrote since is left to it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const entry of this.#entries) {
      try {
        const text = readStateText(entry.path);
        if (text === null) continue;
        const record = parseState(text, entry.direction);
        if (typeof record === 'string' || record.pid === process.pid) rmSync(entry.path, { force: true });
      } catch {
        // Not there (any more): nothing to remove.
      }
    }
  }
}
