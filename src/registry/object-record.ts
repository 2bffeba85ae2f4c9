// What the registry knows about one named object: the record `interproc ls --json` prints an
// array of and `interproc stat --json` prints one of. The field names and meanings are a
// stable contract for scripts (docs/CLI.md lists them): add fields, never rename or
// repurpose one.
import type { ObjectKind } from '../core/names.ts';
import type { StoreSnapshot } from '../channel/snapshot.ts';
import type { BridgeState } from './bridge-states.ts';

/** A named object: the file /dev/shm/interproc.<namespace>.<kind>.<name>. */
export interface ObjectRef {
  namespace: string;
  kind: ObjectKind;
  name: string;
}

/**
 * - ok: a published object of a kind and layout version this interproc reads.
 * - incomplete: not published (yet): an empty file, or a header whose magic is still 0.
 *   Its creator is making it, or died doing so.
 * - damaged: not a valid object: too short, wrong magic, a header of another kind, a layout
 *   version this interproc does not read, or fields that fail validation.
 * - unreadable: this user may not read the file (its mode), or it could not be opened.
 */
export type ObjectStatus = 'ok' | 'incomplete' | 'damaged' | 'unreadable';

export interface ObjectUser {
  pid: number;
  alive: boolean;
}

export interface ObjectRecord extends ObjectRef {
  /** The file: /dev/shm/interproc.<namespace>.<kind>.<name>. */
  path: string;
  status: ObjectStatus;
  /** Why the status is not ok; null when it is. */
  problem: string | null;
  /**
   * Its creator and every registered user are dead (registry/staleness.ts), or it is a port
   * whose owner is dead: `rm --stale` removes it.
   */
  stale: boolean;
  /** Permission bits of the file, as 4 octal digits ("0600"); null if it could not be looked at. */
  mode: string | null;
  /** Owner of the file. */
  uid: number | null;
  /** Bytes of the file: the 256-byte header and the body. */
  size: number | null;
  /** From the header, when it can be trusted (null otherwise). */
  creatorPid: number | null;
  creatorAlive: boolean | null;
  /** ms since the epoch. */
  createdAt: number | null;
  /** Processes that recorded themselves as having the object open (header's users table). */
  users: ObjectUser[];
  /** Unlinked (the header's removed flag) while its file is still there. */
  removed: boolean;
  /** Layout version of the body (header word 1). */
  version: number | null;
  /** The header's flags word (bit 0: removed). */
  flags: number | null;
  /** Size of the body as its creator declared it (a mailbox's grows beyond it). */
  bodyBytes: number | null;
  /** A mailbox's configuration and figures; null for other kinds or when not readable. */
  mailbox: StoreSnapshot | null;
  /**
   * The configuration and figures of any object built on the message store (a mailbox, a
   * message queue, a port); null for other kinds or when not readable. For a mailbox, the
   * same as `mailbox`.
   */
  store: StoreSnapshot | null;
  /** A message queue's own facts (its figures are `store`'s); null for other kinds. */
  queue: QueueFacts | null;
  /** A port's own facts (its figures are `store`'s); null for other kinds and for the port table. */
  port: PortFacts | null;
  /** A mailbox's NATS bridges, running or dead, as their state records say (registry/bridge-states.ts); [] for other kinds. */
  bridges: BridgeState[];
}

export interface QueueFacts {
  /**
   * The key the queue was opened with: a number (its file is named by the key in 8 hex
   * digits, "0x0000002a", as ipcs shows keys) or a string (the file is named by it).
   */
  key: number | string;
  /** When it was made or last changed by set(), ms since the epoch; null when not known. */
  changeTime: number | null;
}

export interface PortFacts {
  /** The port's number. Its file is named `<number>.<generation>`. */
  number: number;
  /** Which port of that number the file holds: each claim of a number starts a new generation. */
  generation: number;
  /** The port table names this file's generation as the number's port now. */
  current: boolean;
  /**
   * The owner: the thread that created the port, as the port table records it (as the
   * header records its creator when the table does not name this port); null when unknown.
   */
  ownerPid: number | null;
  ownerTid: number | null;
  /** Whether the owner still runs: a port whose owner is dead refuses senders and is stale. */
  ownerAlive: boolean | null;
}
