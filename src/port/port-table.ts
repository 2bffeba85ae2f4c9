// The table of port numbers of one namespace: which thread owns each number, and which
// generation of that number's port is current. It is one object file per namespace,
// /dev/shm/interproc.<namespace>.port.table (no port number can be named "table"), made
// by whoever needs it first and kept after its users are gone.
//
// Numbers are 1..65535, as TCP's, and every number has its own entry (entry n - 1), so a
// lookup is one index and no number ever needs a search to be found. 65,535 entries of 16
// bytes: about 1 MiB per namespace, allocated once.
//
// Body layout (see docs/LAYOUT.md):
//   0   Mutex (8 bytes)   held for every change of an entry
//   8   u32 entries       PORT_COUNT; anything else is damage
//   12  u32 cursor        the number handed out last when none was asked for (a hint)
//   16  48 bytes reserved (zero)
//   64  entry[PORT_COUNT], 16 bytes each:
//         u32 state       generation << 1 | OWNED
//         u32 ownerTid    kernel thread id of the owner (the thread that created the port)
//         u32 ownerPid    its process
//         u32 ownerStart  its thread's start time, clock ticks since boot, low 32 bits (0: unknown)
//
// Invariants:
// - Entries change only under the lock. The owner fields are written only while the
//   entry is free; one store of the state word then publishes them with a new generation.
//   So a reader without the lock that sees the same state word before and after reading
//   the owner fields has read that generation's owner (a sequence lock keyed by the
//   generation), and a sender that cached a port can tell it is still the same port by
//   one load of the state word.
// - Each change is a sequence of steps each of which leaves the table consistent: owner
//   fields written while free are invisible; an entry published for a claimer that dies
//   before finishing names a dead owner and is reclaimed; a reclaim or release killed
//   between removing the port's file and freeing the entry leaves an entry naming a dead
//   owner (or its own live one) whose file is already gone, and removing it again is a
//   no-op. A dead lock holder therefore needs no journal: the next locker is told
//   (ownerDied) and sweeps, which reclaims whatever the holder left half-done.
// - A number is owned by at most one entry, and the entry by one thread: a claim takes a
//   free entry, or an owned one only after finding its owner dead, both under the lock.
// - Every word read is untrusted. A state word of any value is a valid state; owner ids
//   outside the kernel's range are dead owners; a wrong entry count is ECORRUPT; a cursor
//   out of range is ignored. Every loop is bounded by PORT_COUNT.
//
// Why a lock rather than compare-exchange of one word per entry: an owner is three words
// (thread id, pid, start time), and a claim made by one CAS would publish the number before
// its owner fields, so that a reclaimer could judge the new owner by the previous one's
// fields and take a live port. Under the lock the fields are written first and published
// by one store; claims are rare (a port's lifetime), and senders never take the lock.
import { addon } from '../native/addon.ts';
import { crashPoint } from '../core/crash-point.ts';
import { corrupt, IpcError, systemError } from '../core/errors.ts';
import { currentThreadStartTime, isThreadAlive } from '../core/liveness.ts';
import { currentNamespace, objectFileName } from '../core/names.ts';
import { ObjectKindCode, type ObjectHeader } from '../core/object-header.ts';
import { abandonCreate, closeFd, createShm, initializeObject, mapObject, openShm } from '../core/shared-file.ts';
import { PID, THREAD_ID } from '../core/thread-id.ts';
import { validateTrustedUids, type TrustedUids } from '../core/trust.ts';
import { validateInteger } from '../core/validate.ts';
import { Mutex } from '../sync/mutex.ts';

/** Lowest and highest port number. */
export const MIN_PORT = 1;
export const MAX_PORT = 65535;
/** Entries of the table: one per number. */
export const PORT_COUNT = MAX_PORT - MIN_PORT + 1;
/** Layout version of the table's body (the object header's `version`). */
export const PORT_TABLE_VERSION = 1;
/** The table's name among the namespace's port objects: no number can take it. */
export const PORT_TABLE_NAME = 'table';

const HEADER_BYTES = 64;
const ENTRY_BYTES = 16;
export const PORT_TABLE_BYTES = HEADER_BYTES + PORT_COUNT * ENTRY_BYTES;
const W_ENTRIES = 2;
const W_CURSOR = 3;
const E_STATE = 0;
const E_TID = 1;
const E_PID = 2;
const E_START = 3;
const OWNED = 1;
const GENERATION_MASK = 0x7fffffff;
/** PID_MAX_LIMIT: no thread or process id is larger. */
const MAX_TASK_ID = 4194304;
const DEFAULT_MODE = 0o600;
/** How long a claim waits for a table locked by a live process before giving up (EAGAIN). */
const LOCK_TIMEOUT_MS = 2000;
/** Reads of an entry that keeps changing under a reader before it gives up. */
const READ_TRIES = 4;
/** Attempts at creating or opening the table while others create or remove it. */
const OPEN_TRIES = 4;

/** A number this thread has taken: the state word it published for it. */
export interface PortClaim {
  readonly number: number;
  readonly generation: number;
  /** The entry's state word while this claim holds it. */
  readonly state: number;
}

/** One owned entry as read without the lock. */
export interface PortOwner {
  readonly number: number;
  readonly generation: number;
  readonly state: number;
  readonly ownerTid: number;
  readonly ownerPid: number;
  /** Low 32 bits of the owner thread's start time in clock ticks since boot; 0: unknown. */
  readonly ownerStart: number;
}

/** An owned number as `interproc ls` shows it. */
export interface PortListing {
  readonly number: number;
  readonly generation: number;
  readonly ownerPid: number;
  readonly ownerTid: number;
  /** Whether the owner thread still runs (false: the number is reclaimed at the next claim or sweep). */
  readonly alive: boolean;
}

/** The name of the object holding the store of generation `generation` of port `number`. */
export function portStoreName(number: number, generation: number): string {
  return `${number}.${generation}`;
}

function stateOf(generation: number, owned: boolean): number {
  return ((generation << 1) | (owned ? OWNED : 0)) | 0;
}

function generationOf(state: number): number {
  return (state >>> 1) & GENERATION_MASK;
}

/** The generation after `generation`, never 0 (0 is an entry never owned). */
function nextGeneration(generation: number): number {
  return (generation + 1) & GENERATION_MASK || 1;
}

function validTaskId(id: number): boolean {
  return id > 0 && id <= MAX_TASK_ID;
}

/** Whether the owner recorded in `owner` still runs; false for ids no task can have. */
export function isOwnerAlive(owner: Pick<PortOwner, 'ownerTid' | 'ownerPid' | 'ownerStart'>): boolean {
  if (!validTaskId(owner.ownerTid) || !validTaskId(owner.ownerPid)) return false;
  if (owner.ownerTid === THREAD_ID) return owner.ownerStart === 0 || owner.ownerStart === ownStart();
  const start = owner.ownerStart;
  return isThreadAlive(owner.ownerTid, start === 0 ? undefined : (startTime) => startTime % 2 ** 32 === start >>> 0);
}

function ownStart(): number {
  return (currentThreadStartTime() ?? 0) % 2 ** 32 | 0;
}

function tablePath(namespace: string): string {
  return `/${objectFileName('port', PORT_TABLE_NAME, namespace)}`;
}

function describe(namespace: string): string {
  return `the port table of namespace "${namespace}"`;
}

/** Removes a port's store file by name; a file already gone is no error. */
function removeStoreFile(number: number, generation: number, namespace: string): void {
  try {
    addon.shmUnlink(`/${objectFileName('port', portStoreName(number, generation), namespace)}`);
  } catch {
    // Already removed (by its owner, or by an earlier reclaim killed before freeing the entry).
  }
}

export class PortTable {
  readonly namespace: string;
  readonly #header: ObjectHeader;
  readonly #words: Int32Array;
  readonly #lock: Mutex;
  #userSlot = -1;

  private constructor(namespace: string, header: ObjectHeader, body: SharedArrayBuffer) {
    this.namespace = namespace;
    this.#header = header;
    this.#words = new Int32Array(body, 0, PORT_TABLE_BYTES / 4);
    this.#lock = new Mutex(body, 0);
    const entries = Atomics.load(this.#words, W_ENTRIES);
    if (entries !== PORT_COUNT) throw corrupt(`${describe(namespace)} says it has ${entries} entries, not ${PORT_COUNT}`);
  }

  /** The table of the current namespace, made when there is none (race-free: O_EXCL, then open). */
  static open(namespace = currentNamespace()): PortTable {
    const path = tablePath(namespace);
    const what = describe(namespace);
    const trusted = validateTrustedUids(undefined);
    let lastError: unknown;
    for (let attempt = 0; attempt < OPEN_TRIES; attempt++) {
      let fd: number;
      try {
        fd = createShm(path, DEFAULT_MODE, what);
      } catch (error) {
        if (!(error instanceof IpcError) || error.code !== 'EEXIST') throw error;
        const opened = PortTable.#openExisting(path, namespace, trusted);
        if (opened !== null) return opened;
        continue;
      }
      try {
        const mapped = initializeObject(fd, ObjectKindCode.PortTable, PORT_TABLE_VERSION, PORT_TABLE_BYTES, DEFAULT_MODE, (body) => {
          new Int32Array(body, 0, HEADER_BYTES / 4)[W_ENTRIES] = PORT_COUNT;
        }, what);
        return new PortTable(namespace, mapped.header, mapped.body);
      } catch (error) {
        abandonCreate(path, error);
        if (!(error instanceof IpcError) || error.code !== 'EEXIST') throw error;
        lastError = error;
      } finally {
        closeFd(fd);
      }
    }
    throw new IpcError('EAGAIN', `${what} was made and removed by others ${OPEN_TRIES} times while this process tried to open it`, { cause: lastError });
  }

  /** The table of `namespace` if it exists (for listings, which must not make one); null otherwise. */
  static openExisting(namespace = currentNamespace()): PortTable | null {
    return PortTable.#openExisting(tablePath(namespace), namespace, validateTrustedUids(undefined));
  }

  static #openExisting(path: string, namespace: string, trusted: TrustedUids): PortTable | null {
    let fd: number;
    try {
      fd = openShm(path, false, 0, describe(namespace));
    } catch (error) {
      if (error instanceof IpcError && error.code === 'ENOENT') return null;
      throw error;
    }
    try {
      const mapped = mapObject(fd, ObjectKindCode.PortTable, PORT_TABLE_VERSION, describe(namespace), trusted);
      return new PortTable(namespace, mapped.header, mapped.body);
    } catch (error) {
      // Removed, or abandoned by a creator that died making it: create replaces it.
      if (error instanceof IpcError && error.code === 'ENOENT') return null;
      throw error;
    } finally {
      closeFd(fd);
    }
  }

  /**
   * Takes `number` for the calling thread, or, when it is undefined, a free number (the
   * search starts after the one handed out last, so a number just released is not given
   * out again at once). A number owned by a dead thread is reclaimed first (its store file
   * removed). EADDRINUSE when the number is owned by a live thread, or when all are.
   */
  claim(number: number | undefined): PortClaim {
    if (number !== undefined) validateInteger(number, 'number', MIN_PORT, MAX_PORT);
    return this.#locked(() => {
      if (this.removed) throw new IpcError('ENOENT', `${describe(this.namespace)} has been removed; open the current one`);
      const taken = number === undefined ? this.#findFree() : this.#takeable(number) ? number : -1;
      if (taken < 0) {
        throw number === undefined
          ? new IpcError('EADDRINUSE', `all ${PORT_COUNT} port numbers are owned by live processes`)
          : new IpcError('EADDRINUSE', `port ${number} is owned by a live process (pid ${this.#owner(number).ownerPid})`);
      }
      return this.#claimEntry(taken, number === undefined);
    });
  }

  /**
   * Frees a number this thread claimed, removing its store file first. false when the entry
   * is no longer the claim's (it was reclaimed while this thread was taken for dead, or
   * damaged): nothing is changed then.
   */
  release(claim: PortClaim): boolean {
    return this.#locked(() => {
      const index = this.#index(claim.number);
      if (Atomics.load(this.#words, index + E_STATE) !== claim.state) return false;
      removeStoreFile(claim.number, claim.generation, this.namespace);
      crashPoint('port-release:unlinked');
      Atomics.store(this.#words, index + E_STATE, stateOf(claim.generation, false));
      crashPoint('port-release:freed');
      return true;
    });
  }

  /**
   * Records this process as a user of the table (once), so that tools never take the
   * table for stale while a process owns or sends to ports in it.
   */
  addUser(): void {
    if (this.#userSlot < 0) this.#userSlot = this.#header.addUser();
  }

  /** Whether the table's file has been removed (removeIfUnused): a holder opens the new one. */
  get removed(): boolean {
    return this.#header.removed;
  }

  /**
   * Reclaims `number` if its entry still holds `state` and its owner is dead (for a sender
   * that found the owner gone); whether it did. It never waits for the lock: a sender only
   * tidies up here, and must neither block (trySend never waits; a waiting send checks from
   * a timer) nor fail because another process holds the table, stopped, or damaged its lock
   * word. Then the number is left to the next claim or sweep, which wait for the lock and
   * take it over from a dead holder.
   */
  reclaimIfDead(number: number, state: number): boolean {
    validateInteger(number, 'number', MIN_PORT, MAX_PORT);
    if (!this.#lock.tryLock()) return false;
    try {
      const owner = this.#owner(number);
      if (owner.state !== state || (state & OWNED) === 0 || isOwnerAlive(owner)) return false;
      this.#reclaim(owner);
      return true;
    } finally {
      this.#lock.unlock();
    }
  }

  /** Reclaims every number whose owner is dead; returns how many. */
  sweep(): number {
    return this.#locked(() => this.#sweep());
  }

  /** The state word of `number`'s entry: one load, for a sender that checks its cached port is still current. */
  state(number: number): number {
    return Atomics.load(this.#words, this.#index(number) + E_STATE);
  }

  /**
   * The owner of `number` as read without the lock, or null when nobody owns it (or the
   * entry kept changing under the reader: a port being made or reclaimed right now).
   */
  lookup(number: number): PortOwner | null {
    validateInteger(number, 'number', MIN_PORT, MAX_PORT);
    for (let tries = 0; tries < READ_TRIES; tries++) {
      const owner = this.#owner(number);
      if ((owner.state & OWNED) === 0) return null;
      if (Atomics.load(this.#words, this.#index(number) + E_STATE) === owner.state) return owner;
    }
    return null;
  }

  /** Owned numbers, in order, with their owners and whether each is alive. */
  list(): PortListing[] {
    const listings: PortListing[] = [];
    const alive = new LivenessCache();
    for (let number = MIN_PORT; number <= MAX_PORT; number++) {
      const owner = this.lookup(number);
      if (owner === null) continue;
      listings.push({
        number,
        generation: owner.generation,
        ownerPid: owner.ownerPid,
        ownerTid: owner.ownerTid,
        alive: alive.check(owner),
      });
    }
    return listings;
  }

  /**
   * Removes the table's file when no live thread owns a number (for a namespace being torn
   * down); whether it did. Threads that have it mapped keep their mapping, and a new table
   * is made by the next claim.
   */
  removeIfUnused(): boolean {
    return this.#locked(() => {
      this.#sweep();
      for (let number = MIN_PORT; number <= MAX_PORT; number++) {
        if ((this.state(number) & OWNED) !== 0) return false;
      }
      try {
        addon.shmUnlink(tablePath(this.namespace));
      } catch (error) {
        const failure = systemError(error, `remove ${describe(this.namespace)}`);
        if (failure.code !== 'ENOENT') throw failure;
      }
      // Holders of this mapping must not claim in a table nobody else sees any more.
      this.#header.markRemoved();
      return true;
    });
  }

  #index(number: number): number {
    return (HEADER_BYTES + (number - MIN_PORT) * ENTRY_BYTES) / 4;
  }

  #owner(number: number): PortOwner {
    const words = this.#words;
    const index = this.#index(number);
    const state = Atomics.load(words, index + E_STATE);
    return {
      number,
      generation: generationOf(state),
      state,
      ownerTid: Atomics.load(words, index + E_TID),
      ownerPid: Atomics.load(words, index + E_PID),
      ownerStart: Atomics.load(words, index + E_START),
    };
  }

  // Whether `number` may be claimed now: free, or owned by a dead thread (then reclaimed).
  // Under the lock.
  #takeable(number: number, alive?: LivenessCache): boolean {
    const owner = this.#owner(number);
    if ((owner.state & OWNED) === 0) return true;
    if (alive === undefined ? isOwnerAlive(owner) : alive.check(owner)) return false;
    this.#reclaim(owner);
    return true;
  }

  // A free number after the cursor, else the first whose owner is dead; -1 if none. Under the lock.
  #findFree(): number {
    const cursor = Atomics.load(this.#words, W_CURSOR);
    const start = cursor >= MIN_PORT && cursor <= MAX_PORT ? cursor : MAX_PORT;
    for (let step = 1; step <= PORT_COUNT; step++) {
      const number = ((start - MIN_PORT + step) % PORT_COUNT) + MIN_PORT;
      if ((this.state(number) & OWNED) === 0) return number;
    }
    const alive = new LivenessCache();
    for (let step = 1; step <= PORT_COUNT; step++) {
      const number = ((start - MIN_PORT + step) % PORT_COUNT) + MIN_PORT;
      if (this.#takeable(number, alive)) return number;
    }
    return -1;
  }

  // Publishes this thread as the owner of free entry `number`, under the lock.
  #claimEntry(number: number, moveCursor: boolean): PortClaim {
    const words = this.#words;
    const index = this.#index(number);
    const generation = nextGeneration(generationOf(Atomics.load(words, index + E_STATE)));
    // The entry is free: nobody reads these fields until the state word publishes them.
    Atomics.store(words, index + E_TID, THREAD_ID);
    crashPoint('port-claim:tid');
    Atomics.store(words, index + E_PID, PID);
    Atomics.store(words, index + E_START, ownStart());
    crashPoint('port-claim:owner');
    const state = stateOf(generation, true);
    Atomics.store(words, index + E_STATE, state);
    crashPoint('port-claim:published');
    if (moveCursor) {
      Atomics.store(words, W_CURSOR, number);
      crashPoint('port-claim:cursor');
    }
    return { number, generation, state };
  }

  // Frees the entry of a dead owner, removing its store file first. Under the lock.
  #reclaim(owner: PortOwner): void {
    crashPoint('port-reclaim:judged');
    removeStoreFile(owner.number, owner.generation, this.namespace);
    crashPoint('port-reclaim:unlinked');
    Atomics.store(this.#words, this.#index(owner.number) + E_STATE, stateOf(owner.generation, false));
    crashPoint('port-reclaim:freed');
  }

  #sweep(): number {
    const alive = new LivenessCache();
    let reclaimed = 0;
    for (let number = MIN_PORT; number <= MAX_PORT; number++) {
      const owner = this.#owner(number);
      if ((owner.state & OWNED) === 0 || alive.check(owner)) continue;
      this.#reclaim(owner);
      reclaimed++;
    }
    return reclaimed;
  }

  // Runs `change` under the table's lock. A holder that died mid-change left only states
  // that a sweep resolves (see the header), so the first locker after it sweeps.
  #locked<R>(change: () => R): R {
    let result;
    try {
      result = this.#lock.lockSync({ timeout: LOCK_TIMEOUT_MS });
    } catch (error) {
      if (error instanceof IpcError && error.code === 'ETIMEDOUT') {
        throw new IpcError('EAGAIN', `${describe(this.namespace)} has been locked for ${LOCK_TIMEOUT_MS} ms by a live process (stopped?); try again later`);
      }
      throw error;
    }
    try {
      if (result.ownerDied) this.#sweep();
      return change();
    } finally {
      this.#lock.unlock();
    }
  }
}

/** Liveness of owners within one pass over the table: a process owning 1,000 ports is looked up once. */
class LivenessCache {
  readonly #known = new Map<string, boolean>();

  check(owner: Pick<PortOwner, 'ownerTid' | 'ownerPid' | 'ownerStart'>): boolean {
    const key = `${owner.ownerTid}:${owner.ownerPid}:${owner.ownerStart}`;
    let alive = this.#known.get(key);
    if (alive === undefined) {
      alive = isOwnerAlive(owner);
      this.#known.set(key, alive);
    }
    return alive;
  }
}

/** This thread's table of each namespace, opened once and again after it was removed. */
const tables = new Map<string, PortTable>();
// The table of the namespace last asked for, and the INTERPROC_NAMESPACE it came from: a
// sender asks on every send, and the variable must be read each time (a process may switch
// namespaces), but need not be parsed again while it is unchanged.
let lastVariable: string | undefined;
let lastTable: PortTable | null = null;

/** The table of the current namespace, made when there is none, with this process recorded as its user. */
export function currentPortTable(): PortTable {
  const variable = process.env.INTERPROC_NAMESPACE;
  if (lastTable !== null && variable === lastVariable && !lastTable.removed) return lastTable;
  const namespace = currentNamespace();
  let table = tables.get(namespace);
  if (table === undefined || table.removed) {
    table = PortTable.open(namespace);
    table.addUser();
    tables.set(namespace, table);
  }
  lastVariable = variable;
  lastTable = table;
  return table;
}

/**
 * The owned numbers of `namespace` (default: the current one) for `interproc ls`: number,
 * owner pid and thread, and whether the owner is alive. Never makes a table: [] when the
 * namespace has none.
 */
export function listPorts(namespace = currentNamespace()): PortListing[] {
  return PortTable.openExisting(namespace)?.list() ?? [];
}
