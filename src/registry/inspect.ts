// Looks at one named object without changing it and says what it is: the header's fields,
// validated one by one (the memory is untrusted: another process may have written anything
// there), whether its creator and users still run, whether it is stale, and for an object
// built on the message store (mailbox, message queue, port) a snapshot of its configuration
// and figures, with a queue's key and a port's number and owner. Whatever the file holds, the answer is a record
// (status damaged, incomplete or unreadable, with the problem), never an exception.
//
// The checks follow ObjectHeader.validate() (core/object-header.ts), with two differences:
// nothing is waited for (an unpublished header is reported as incomplete, not awaited), and a
// header is trusted field by field, so that a damaged body still shows who made and uses the
// object (and can be found stale).
import { objectFileName, SHM_DIR, type ObjectKind } from '../core/names.ts';
import {
  ABANDONED_AFTER_MS,
  F_BODY_BYTES,
  F_CREATED_AT,
  FLAG_REMOVED,
  HEADER_BYTES,
  MAGIC,
  ObjectKindCode,
  USER_SLOTS,
  W_CREATOR_PID,
  W_FLAGS,
  W_HEADER_BYTES,
  W_KIND,
  W_MAGIC,
  W_USERS,
  W_VERSION,
} from '../core/object-header.ts';
import { SHARED_MEMORY_VERSION } from '../shm/shared-memory.ts';
import { isThreadAlive } from '../core/liveness.ts';
import * as L from '../channel/layout.ts';
import { MAX_DATE_MS, readStoreConfig, readStoreSnapshot, validPid, type StoreSnapshot } from '../channel/snapshot.ts';
import { auditStore } from '../channel/store-audit.ts';
import { PORT_TABLE_NAME, PORT_TABLE_VERSION } from '../port/port-table.ts';
import { readBridgeStates } from './bridge-states.ts';
import { readObjectFile, type ObjectFile } from './object-file.ts';
import type { ObjectRecord, ObjectRef, ObjectStatus } from './object-record.ts';
import { parsePortName, PortOwnerCache, type PortOwners } from './port-owners.ts';
import { queueKey } from './queue-key.ts';
import { isStale } from './staleness.ts';

const KIND_CODES: Record<ObjectKind, number> = {
  shm: ObjectKindCode.SharedMemory,
  mailbox: ObjectKindCode.Mailbox,
  mq: ObjectKindCode.MessageQueue,
  port: ObjectKindCode.Port,
};

/** How a mismatch names the kind a header says. */
const KIND_LABELS = new Map<number, string>([
  [ObjectKindCode.SharedMemory, 'a shm'],
  [ObjectKindCode.Mailbox, 'a mailbox'],
  [ObjectKindCode.MessageQueue, 'a mq'],
  [ObjectKindCode.Port, 'a port'],
  [ObjectKindCode.PortTable, 'the port table'],
]);

/** The body layout version this interproc reads, per kind. */
const KNOWN_VERSIONS: Record<ObjectKind, number> = {
  shm: SHARED_MEMORY_VERSION,
  mailbox: L.STORE_VERSION,
  mq: L.STORE_VERSION,
  port: L.STORE_VERSION,
};

/** Kinds whose body is a message store (src/channel/): its control block is read and its cells audited. */
const STORE_KINDS: ReadonlySet<ObjectKind> = new Set<ObjectKind>(['mailbox', 'mq', 'port']);

/** The namespace's table of port numbers: a file named like a port's, of its own kind. */
function isPortTable(ref: ObjectRef): boolean {
  return ref.kind === 'port' && ref.name === PORT_TABLE_NAME;
}

/** What the header of `ref` must say, and whether its body is a message store. */
function expectedLayout(ref: ObjectRef): { kind: number; version: number; store: boolean } {
  if (isPortTable(ref)) return { kind: ObjectKindCode.PortTable, version: PORT_TABLE_VERSION, store: false };
  return { kind: KIND_CODES[ref.kind], version: KNOWN_VERSIONS[ref.kind], store: STORE_KINDS.has(ref.kind) };
}

/** How problems name the object, as the library's own messages do. */
function describe(ref: ObjectRef): string {
  switch (ref.kind) {
    case 'mailbox':
      return `mailbox "${ref.name}"`;
    case 'mq':
      return typeof queueKey(ref.name) === 'number' ? `message queue ${ref.name}` : `message queue "${ref.name}"`;
    case 'port':
      return `port ${ref.name}`;
    default:
      return `shared memory "${ref.name}"`;
  }
}

/** The file of a named object. */
export function objectPath(ref: ObjectRef): string {
  return `${SHM_DIR}/${objectFileName(ref.kind, ref.name, ref.namespace)}`;
}

/**
 * Inspects the object; null when its file is not there. `ports`: the port tables read so
 * far (a listing passes one for all its objects; each table is read once).
 */
export function inspectObject(ref: ObjectRef, ports = new PortOwnerCache()): ObjectRecord | null {
  const record: ObjectRecord = {
    namespace: ref.namespace,
    kind: ref.kind,
    name: ref.name,
    path: objectPath(ref),
    status: 'ok',
    problem: null,
    stale: false,
    mode: null,
    uid: null,
    size: null,
    creatorPid: null,
    creatorAlive: null,
    createdAt: null,
    users: [],
    removed: false,
    version: null,
    flags: null,
    bodyBytes: null,
    mailbox: null,
    store: null,
    queue: null,
    port: null,
    bridges: [],
  };
  const layout = expectedLayout(ref);
  // A message store's whole file: its ring and cells are audited too.
  const result = readObjectFile(record.path, layout.store);
  if ('missing' in result) return null;
  if ('notFile' in result) return fail(record, 'damaged', `${result.notFile}, not a shared memory file`);
  const { file } = result;
  if (file !== null) {
    record.mode = file.mode.toString(8).padStart(4, '0');
    record.uid = file.uid;
    record.size = file.size;
  }
  if ('unreadable' in result) return fail(record, 'unreadable', result.unreadable);
  readHeader(record, result.file, layout, ports);
  if (ref.kind === 'mailbox') record.bridges = readBridgeStates(ref.namespace, ref.name, record.store?.messages ?? null);
  return record;
}

function fail(record: ObjectRecord, status: ObjectStatus, problem: string): ObjectRecord {
  record.status = status;
  record.problem = problem;
  return record;
}

/** Fills the record from the header (and a message store's control block). */
function readHeader(record: ObjectRecord, file: ObjectFile, layout: ReturnType<typeof expectedLayout>, ports: PortOwnerCache): void {
  // The creator makes the file, sizes it and records itself at once (core/shared-file.ts):
  // a file long past those steps that still records no creator was abandoned there.
  const abandoned = Date.now() - file.mtimeMs >= ABANDONED_AFTER_MS;
  if (file.prefix === null) {
    record.stale = abandoned;
    fail(record, 'incomplete', abandoned ? 'empty: abandoned by a creator that never sized it' : 'empty: being created');
    return;
  }
  if (file.size < HEADER_BYTES) {
    fail(record, 'damaged', `${file.size} bytes, too short for a header`);
    return;
  }
  const words = new Int32Array(file.prefix, 0, HEADER_BYTES / 4);
  const floats = new Float64Array(file.prefix, 0, HEADER_BYTES / 8);
  const magic = Atomics.load(words, W_MAGIC);
  if (magic !== 0 && magic !== MAGIC) {
    fail(record, 'damaged', `does not start with interproc's magic number (0x${(magic >>> 0).toString(16)})`);
    return;
  }
  // From here on the header is interproc's (or one being made): who made and uses it can be
  // believed once each pid passes validation.
  const creator = Atomics.load(words, W_CREATOR_PID);
  const users = readUsers(words);
  if (magic === 0) {
    readUnpublished(record, creator, users, abandoned);
    return;
  }
  if (Atomics.load(words, W_HEADER_BYTES) !== HEADER_BYTES) {
    fail(record, 'damaged', `declares a header of ${Atomics.load(words, W_HEADER_BYTES)} bytes, not ${HEADER_BYTES}`);
    return;
  }
  if (!validPid(creator)) {
    fail(record, 'damaged', `its creator pid ${creator} is not a pid`);
    return;
  }
  const flags = Atomics.load(words, W_FLAGS);
  record.flags = flags;
  record.removed = (flags & FLAG_REMOVED) !== 0;
  record.creatorPid = creator;
  record.creatorAlive = isThreadAlive(creator);
  const createdAt = floats[F_CREATED_AT]!;
  // A time a Date can hold (tools print it as one), else unknown.
  record.createdAt = Number.isFinite(createdAt) && createdAt > 0 && createdAt <= MAX_DATE_MS ? createdAt : null;
  if (typeof users === 'string') {
    fail(record, 'damaged', users);
    return;
  }
  record.users = users.pids.map((pid) => ({ pid, alive: isThreadAlive(pid) }));
  record.stale = isStale({ creatorAlive: record.creatorAlive, users: record.users, usersFull: users.full });

  const kindCode = Atomics.load(words, W_KIND);
  if (kindCode !== layout.kind) {
    fail(record, 'damaged', `the header is of ${KIND_LABELS.get(kindCode) ?? `unknown kind ${kindCode}`}, not of ${KIND_LABELS.get(layout.kind)!}`);
    return;
  }
  // What the name says (a queue's key, a port's number and owner) holds whatever the body is.
  if (record.kind === 'mq') record.queue = { key: queueKey(record.name), changeTime: null };
  if (record.kind === 'port' && !readPort(record, ports.of(record.namespace))) return;
  const version = Atomics.load(words, W_VERSION);
  record.version = version;
  if (version !== layout.version) {
    fail(record, 'damaged', `layout version ${version}; this interproc reads ${layout.version}`);
    return;
  }
  const bodyBytes = floats[F_BODY_BYTES]!;
  if (!Number.isSafeInteger(bodyBytes) || bodyBytes <= 0 || HEADER_BYTES + bodyBytes > file.size) {
    fail(record, 'damaged', `declares a body of ${bodyBytes} bytes in a ${file.size}-byte file`);
    return;
  }
  record.bodyBytes = bodyBytes;
  if (layout.store) {
    const snapshot = readStore(file, bodyBytes, record.path, describe(record));
    if (typeof snapshot === 'string') {
      fail(record, 'damaged', snapshot);
      return;
    }
    record.store = snapshot;
    if (record.kind === 'mailbox') record.mailbox = snapshot;
    if (record.queue !== null) record.queue.changeTime = changeTime(file.prefix!);
  }
}

/**
 * A port's number and owner, and its staleness, from its name and the port table (false:
 * the record is damaged). The table names the owner of each number's current generation;
 * a port file the table does not name (a leftover of a port whose number has been freed or
 * taken again since, or of a table removed since) is judged by its creator. Only its owner receives from a port, so a port
 * whose owner is dead refuses every sender and is stale, whoever else still has it open.
 * The table itself is not stale while a live process owns a number in it.
 */
function readPort(record: ObjectRecord, owners: PortOwners): boolean {
  if (isPortTable(record)) {
    if (record.stale && [...owners.values()].some((owner) => owner.alive)) record.stale = false;
    return true;
  }
  const parsed = parsePortName(record.name);
  if (parsed === null) {
    fail(record, 'damaged', `no port's file is named "${record.name}": a port's is <number>.<generation>`);
    return false;
  }
  const owner = owners.get(parsed.number);
  const current = owner !== undefined && owner.generation === parsed.generation;
  record.port = {
    ...parsed,
    current,
    ownerPid: current ? owner.ownerPid : record.creatorPid,
    ownerTid: current ? owner.ownerTid : null,
    ownerAlive: current ? owner.alive : record.creatorAlive,
  };
  if (record.port.ownerAlive === false) record.stale = true;
  return true;
}

/**
 * A header whose magic is still 0: the creator records its pid first, so a recorded creator
 * that is dead will never publish it (abandoned, and stale unless someone is recorded as
 * using it); no pid yet is a creator between sizing the file and recording itself, or, long
 * after the file was sized (`abandoned`), one that was lost there.
 */
function readUnpublished(record: ObjectRecord, creator: number, users: ReturnType<typeof readUsers>, abandoned: boolean): void {
  if (creator === 0) {
    record.stale = abandoned;
    fail(record, 'incomplete', abandoned ? 'never published: abandoned by a creator that never recorded itself' : 'not published: being created');
    return;
  }
  if (!validPid(creator)) {
    fail(record, 'damaged', `not published, and its creator pid ${creator} is not a pid`);
    return;
  }
  record.creatorPid = creator;
  record.creatorAlive = isThreadAlive(creator);
  if (typeof users === 'string') {
    fail(record, 'damaged', `not published, and ${users}`);
    return;
  }
  record.users = users.pids.map((pid) => ({ pid, alive: isThreadAlive(pid) }));
  record.stale = isStale({ creatorAlive: record.creatorAlive, users: record.users, usersFull: users.full });
  fail(
    record,
    'incomplete',
    record.creatorAlive ? `not published yet: pid ${creator} is creating it` : `never published: its creator (pid ${creator}) has exited`,
  );
}

/** The users table's pids, or what is wrong with it. `full`: no slot is free. */
function readUsers(words: Int32Array): { pids: number[]; full: boolean } | string {
  const pids: number[] = [];
  for (let slot = 0; slot < USER_SLOTS; slot++) {
    const pid = Atomics.load(words, W_USERS + slot);
    if (pid === 0) continue;
    if (!validPid(pid)) return `users[${slot}] holds ${pid}, not a pid`;
    pids.push(pid);
  }
  return { pids, full: pids.length === USER_SLOTS };
}

/**
 * When a store's settings last changed (its creation, then each change of its limits or
 * mode: a queue's msg_ctime), from its control block (read whole by readStoreSnapshot
 * already); null for a value that is no time a Date can hold.
 */
function changeTime(prefix: SharedArrayBuffer): number | null {
  const value = new Float64Array(prefix, HEADER_BYTES, L.CONTROL_BYTES / 8)[L.F_CHANGE_TIME]!;
  return Number.isFinite(value) && value > 0 && value <= MAX_DATE_MS ? value : null;
}

/** Looks at a message store this many times before calling it damaged for what its audit found. */
const AUDIT_LOOKS = 3;

/**
 * A message store's snapshot, or what is wrong with it: its control block's words, and when
 * the whole file could be read, its ring and cells (channel/store-audit.ts). What the audit
 * finds is looked at again on a fresh read of the file: the store may have changed under the
 * mapping (its arena grew past the end of it), and only damage that stays is reported.
 */
function readStore(file: ObjectFile, bodyBytes: number, path: string, what: string): StoreSnapshot | string {
  try {
    // The configuration must fit the body the header declares, as for MessageStore.attach()
    // (which maps that much): a grown arena's larger file does not make up for it.
    const snapshot = readStoreSnapshot(file.prefix!, HEADER_BYTES, bodyBytes, what);
    let problem: string | null = null;
    let current: ObjectFile | null = file;
    for (let look = 0; look < AUDIT_LOOKS && current !== null; look++) {
      problem = auditFile(current, bodyBytes, what);
      if (problem === null) break;
      const again = readObjectFile(path, true);
      current = 'file' in again && again.file !== null && 'prefix' in again.file ? again.file : null;
    }
    return problem === null ? snapshot : `${what}: ${problem}`;
  } catch (error) {
    // "ECORRUPT: shared state failed validation: mailbox ... has ..." → "mailbox ... has ..."
    return error instanceof Error ? error.message.replace(/^ECORRUPT: shared state failed validation: /, '') : String(error);
  }
}

/**
 * What the audit finds wrong with a message store's file (its cells may go past the declared
 * `bodyBytes`, up to the file's end); null also when only its prefix was read.
 */
function auditFile(file: ObjectFile, bodyBytes: number, what: string): string | null {
  const prefix = file.prefix;
  if (prefix === null || prefix.byteLength !== file.size) return null;
  const words = new Int32Array(prefix, HEADER_BYTES, Math.floor((file.size - HEADER_BYTES) / 4));
  return auditStore(words, readStoreConfig(prefix, HEADER_BYTES, bodyBytes, what));
}
