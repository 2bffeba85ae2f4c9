// What the registry knows about one named object: the record `interproc ls --json` prints an
// array of and `interproc stat --json` prints one of. The field names and meanings are a
// stable contract for scripts (docs/CLI.md lists them): add fields, never rename or
// repurpose one.
import type { ObjectKind } from '../core/names.ts';
import type { StoreSnapshot } from '../channel/snapshot.ts';

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
  /** Its creator and every registered user are dead (registry/staleness.ts): `rm --stale` removes it. */
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
}
