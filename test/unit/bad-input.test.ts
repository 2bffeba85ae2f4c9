// Bad input across the whole public API (src/index.ts): a table of calls, each with the
// error README "Errors" documents for it (class and code), and after each one a check
// that what is already stored is intact: the messages queued in two mailboxes (one in
// RING mode, one in LIST mode with multi-cell messages, drained and re-queued in order
// by every check) and every byte of a segment holding a pattern and the words of a
// Mutex, Semaphore and Condition. Ends with one summary line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AbortError,
  Condition,
  IpcError,
  Mailbox,
  Mutex,
  Semaphore,
  SharedMemory,
  type Codec,
} from '../../src/index.ts';
import { unlinkIfPresent } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('bad-input');

/** What a call must fail with: Node's argument errors, AbortError, or an IpcError code. */
type Expected = 'TypeError' | 'RangeError' | 'ReturnValue' | 'AbortError' | `E${string}`;

interface BadCall {
  /** The API and what is wrong with the call. */
  what: string;
  call: () => unknown;
  expected: Expected;
}

const NODE_ERRORS = {
  TypeError: { type: TypeError, code: 'ERR_INVALID_ARG_TYPE' },
  RangeError: { type: RangeError, code: 'ERR_OUT_OF_RANGE' },
  ReturnValue: { type: TypeError, code: 'ERR_INVALID_RETURN_VALUE' },
} as const;

/** Why `error` is not the expected error; null when it is. */
function mismatch(error: unknown, expected: Expected): string | null {
  const shown = error instanceof Error ? `${error.name} ${String((error as { code?: unknown }).code)}: ${error.message}` : String(error);
  if (expected === 'AbortError') {
    return error instanceof AbortError && error.code === 'ABORT_ERR' && error.name === 'AbortError' ? null : `got ${shown}`;
  }
  if (expected in NODE_ERRORS) {
    const { type, code } = NODE_ERRORS[expected as keyof typeof NODE_ERRORS];
    return error instanceof type && (error as { code?: unknown }).code === code ? null : `got ${shown}`;
  }
  // An IpcError: its class, name, code, and a message that starts with the code.
  if (!(error instanceof IpcError) || error.name !== 'IpcError' || error.code !== expected) return `got ${shown}`;
  if (!error.message.startsWith(`${expected}: `)) return `message does not start with the code: ${error.message}`;
  return null;
}

/** Runs a call that must fail, synchronously or through its promise, within a deadline. */
async function failure(call: () => unknown): Promise<{ error: unknown } | { value: unknown }> {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    return { error };
  }
  if (!(result instanceof Promise)) return { value: result };
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('still pending after 10 s')), 10_000);
  });
  try {
    return { value: await Promise.race([result, hung]) };
  } catch (error) {
    return { error };
  } finally {
    clearTimeout(timer);
  }
}

// ---- what must stay intact ---------------------------------------------------------------

const SEGMENT_BYTES = 4096;
/** Where the segment keeps its objects (byte offsets), and where its pattern starts. */
const AT = { freeMutex: 0, semaphore: 8, condition: 16, heldMutex: 24, corruptMutex: 32, corruptSemaphore: 40, emptySemaphore: 48, pattern: 256 };
const SEMAPHORE_COUNT = 3;
const MUTEX_WAITERS = 0x40000000;
const CORRUPT_MUTEX_STATE = MUTEX_WAITERS; // waiters, and no owner
const CORRUPT_COUNT = -7;

/** Messages queued in the RING-mode mailbox (utf8) and the LIST-mode one (bytes, several cells each). */
const RING_MESSAGES = [
  { data: 'one', type: 1 },
  { data: 'two', type: 2 },
  { data: 'three', type: 1 },
];
const LIST_MESSAGES = [300, 1, 700].map((size, n) => ({ data: new Uint8Array(size).map((_, i) => (i * 13 + n) & 0xff), type: n }));

let segment: SharedMemory;
let words: Int32Array;
let segmentSnapshot: Uint8Array;
let ringBox: Mailbox<string>;
let listBox: Mailbox<Uint8Array>;
const closers: Array<() => void> = [];
/** The name of objects every call fails to make. */
const NEVER = 'bi-never-made';
const names = { ring: 'bi-ring', list: 'bi-list', full: 'bi-full', gone: 'bi-gone', json: 'bi-json', fussy: 'bi-fussy', broken: 'bi-broken', picky: 'bi-picky' };

function refill(): void {
  for (const { data, type } of RING_MESSAGES) assert.ok(ringBox.trySend(data, { type }));
  for (const { data, type } of LIST_MESSAGES) assert.ok(listBox.trySend(data, { type }));
}

/**
 * The segment's bytes, but for the WAITERS bit of the two Mutexes that calls lock: a
 * locker that gives up leaves it set (a hint that costs at most a spare wake, see
 * src/sync/mutex.ts); the owner bits must be as they were.
 */
function segmentNow(): Uint8Array {
  const copy = new Uint8Array(segment.buffer).slice();
  const copyWords = new Int32Array(copy.buffer);
  for (const at of [AT.freeMutex, AT.heldMutex]) copyWords[at / 4]! &= ~MUTEX_WAITERS;
  return copy;
}

/** Whether everything stored is as it was; drains both mailboxes and queues their messages again. */
function intact(): string | null {
  const ring: Array<{ data: string; type: number }> = [];
  for (let m = ringBox.tryReceive(); m !== null; m = ringBox.tryReceive()) ring.push({ data: m.data, type: m.type });
  const list: Array<{ data: Uint8Array; type: number }> = [];
  for (let m = listBox.tryReceive(); m !== null; m = listBox.tryReceive()) list.push({ data: m.data, type: m.type });
  refill();
  try {
    assert.deepEqual(ring, RING_MESSAGES, 'the RING-mode mailbox');
    assert.deepEqual(list, LIST_MESSAGES, 'the LIST-mode mailbox');
    assert.deepEqual(segmentNow(), segmentSnapshot, 'the segment');
  } catch (error) {
    return (error as Error).message.split('\n')[0]!;
  }
  return null;
}

function setUp(): void {
  segment = SharedMemory.create('bi-segment', SEGMENT_BYTES);
  words = new Int32Array(segment.buffer);
  const bytes = new Uint8Array(segment.buffer);
  for (let i = AT.pattern; i < SEGMENT_BYTES; i++) bytes[i] = (i * 7 + 3) & 0xff;
  new Semaphore(segment.buffer, AT.semaphore, SEMAPHORE_COUNT);
  assert.ok(new Mutex(segment.buffer, AT.heldMutex).tryLock());
  words[AT.corruptMutex / 4] = CORRUPT_MUTEX_STATE;
  words[AT.corruptSemaphore / 4] = CORRUPT_COUNT;
  segmentSnapshot = segmentNow();

  ringBox = Mailbox.create<string>(names.ring, { codec: 'utf8', capacity: 16, maxMessageSize: 64 });
  listBox = Mailbox.create<Uint8Array>(names.list, { codec: 'bytes', capacity: 16, maxMessageSize: 1024, maxBytes: 64 * 1024 });
  assert.equal(listBox.tryReceive({ type: 99 }), null, 'a selective receive moves it to the list');
  refill();
}

/** Closes and removes everything (the namespace's own check then finds nothing left). */
function tearDown(): void {
  for (const close of closers) close();
  ringBox.close();
  listBox.close();
  for (const name of [...Object.values(names), NEVER]) unlinkIfPresent(name);
  segment.close();
  SharedMemory.unlink('bi-segment');
  // A create that should have failed and did not made this one.
  try {
    SharedMemory.unlink(NEVER);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
}

// ---- the table ---------------------------------------------------------------------------

function badCalls(): BadCall[] {
  const buffer = segment.buffer;
  const freeMutex = new Mutex(buffer, AT.freeMutex);
  const heldMutex = new Mutex(buffer, AT.heldMutex);
  const corruptMutex = new Mutex(buffer, AT.corruptMutex);
  const semaphore = new Semaphore(buffer, AT.semaphore);
  const emptySemaphore = new Semaphore(buffer, AT.emptySemaphore);
  const corruptSemaphore = new Semaphore(buffer, AT.corruptSemaphore);
  const condition = new Condition(buffer, AT.condition);
  const aborted = AbortSignal.abort();

  const full = Mailbox.create<string>(names.full, { codec: 'utf8', capacity: 1, whenFull: 'fail' });
  assert.ok(full.trySend('fills it'));
  const closed = Mailbox.open<string>(names.ring);
  closed.close();
  const gone = Mailbox.create<string>(names.gone, { codec: 'utf8' });
  Mailbox.unlink(names.gone);
  const json = Mailbox.create<unknown>(names.json, { codec: 'json' });
  const fussy: Codec<string> = {
    encode: (value) => new TextEncoder().encode(value),
    decode: () => {
      throw new Error('cannot read this');
    },
  };
  const undecodable = Mailbox.create<string>(names.fussy, { codec: fussy });
  assert.ok(undecodable.trySend('taken, and carried by the error'));
  const broken = Mailbox.create<string>(names.broken, { codec: { encode: () => 'text', decode: String } as unknown as Codec<string> });
  const picky = Mailbox.create<number>(names.picky, {
    codec: {
      encode: (value: number) => {
        if (value < 0) throw new Error('no negatives');
        return Uint8Array.of(value);
      },
      decode: (bytes: Uint8Array) => bytes[0]!,
    },
  });
  const closedSegment = SharedMemory.open('bi-segment');
  closedSegment.close();
  const anonymous = SharedMemory.anonymous(64);
  closers.push(() => full.close(), () => gone.close(), () => json.close());
  closers.push(() => undecodable.close(), () => broken.close(), () => picky.close(), () => anonymous.close());
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;

  const calls: BadCall[] = [];
  const add = (what: string, expected: Expected, call: () => unknown): void => {
    calls.push({ what, call, expected });
  };

  // SharedMemory
  add('SharedMemory.create: name not a string', 'TypeError', () => SharedMemory.create(42 as never, 64));
  add('SharedMemory.create: empty name', 'EINVAL', () => SharedMemory.create('', 64));
  add('SharedMemory.create: name starting with "."', 'EINVAL', () => SharedMemory.create('.hidden', 64));
  add('SharedMemory.create: name with "/"', 'EINVAL', () => SharedMemory.create('a/b', 64));
  add('SharedMemory.create: name of 201 characters', 'EINVAL', () => SharedMemory.create('x'.repeat(201), 64));
  add('SharedMemory.create: size 0', 'RangeError', () => SharedMemory.create(NEVER, 0));
  add('SharedMemory.create: size 1.5', 'RangeError', () => SharedMemory.create(NEVER, 1.5));
  add('SharedMemory.create: size 2**41', 'RangeError', () => SharedMemory.create(NEVER, 2 ** 41));
  add('SharedMemory.create: size a string', 'TypeError', () => SharedMemory.create(NEVER, '64' as never));
  add('SharedMemory.create: options null', 'TypeError', () => SharedMemory.create(NEVER, 64, null as never));
  add('SharedMemory.create: mode null', 'TypeError', () => SharedMemory.create(NEVER, 64, { mode: null as never }));
  add('SharedMemory.create: mode 0o1000', 'RangeError', () => SharedMemory.create(NEVER, 64, { mode: 0o1000 }));
  add('SharedMemory.create: mode a string', 'TypeError', () => SharedMemory.create(NEVER, 64, { mode: '600' as never }));
  add('SharedMemory.create: name taken', 'EEXIST', () => SharedMemory.create('bi-segment', 64));
  add('SharedMemory.open: missing', 'ENOENT', () => SharedMemory.open(NEVER));
  add('SharedMemory.open: name null', 'TypeError', () => SharedMemory.open(null as never));
  add('SharedMemory.openOrCreate: existing, another size', 'EINVAL', () => SharedMemory.openOrCreate('bi-segment', 128));
  add('SharedMemory.openOrCreate: mode null', 'TypeError', () => SharedMemory.openOrCreate(NEVER, 64, { mode: null as never }));
  add('SharedMemory.anonymous: size NaN', 'RangeError', () => SharedMemory.anonymous(NaN));
  add('SharedMemory.anonymous: size undefined', 'TypeError', () => SharedMemory.anonymous(undefined as never));
  add('SharedMemory.fromFd: -1', 'RangeError', () => SharedMemory.fromFd(-1));
  add('SharedMemory.fromFd: a string', 'TypeError', () => SharedMemory.fromFd('3' as never));
  add('SharedMemory.fromFd: no such descriptor', 'EBADF', () => SharedMemory.fromFd(0x7ffffff0));
  add('SharedMemory.unlink: missing', 'ENOENT', () => SharedMemory.unlink(NEVER));
  add('SharedMemory.unlink: name undefined', 'TypeError', () => SharedMemory.unlink(undefined as never));
  add('segment.buffer once closed', 'EBADF', () => closedSegment.buffer);
  add('segment.unlink() of an anonymous segment', 'EINVAL', () => anonymous.unlink());

  // Mutex
  add('new Mutex: an ArrayBuffer', 'TypeError', () => new Mutex(new ArrayBuffer(8) as never, 0));
  add('new Mutex: offset 2 (unaligned)', 'RangeError', () => new Mutex(buffer, 2));
  add('new Mutex: offset -4', 'RangeError', () => new Mutex(buffer, -4));
  add('new Mutex: past the end', 'RangeError', () => new Mutex(buffer, SEGMENT_BYTES - 4));
  add('new Mutex: offset null', 'TypeError', () => new Mutex(buffer, null as never));
  add('mutex.unlock(): not held', 'EPERM', () => freeMutex.unlock());
  add('mutex.lock: timeout -1', 'RangeError', () => freeMutex.lock({ timeout: -1 }));
  add('mutex.lock: timeout NaN', 'RangeError', () => freeMutex.lock({ timeout: NaN }));
  add('mutex.lock: timeout a string', 'TypeError', () => freeMutex.lock({ timeout: '1' as never }));
  add('mutex.lock: signal not an AbortSignal', 'TypeError', () => freeMutex.lock({ signal: {} as never }));
  add('mutex.lock: options null', 'TypeError', () => freeMutex.lock(null as never));
  add('mutex.lock: signal aborted', 'AbortError', () => freeMutex.lock({ signal: aborted }));
  add('mutex.lock: held, timeout 0', 'ETIMEDOUT', () => heldMutex.lock({ timeout: 0 }));
  add('mutex.lockSync: timeout null', 'TypeError', () => freeMutex.lockSync({ timeout: null as never }));
  add('mutex.lockSync: held by this thread', 'EDEADLK', () => heldMutex.lockSync());
  add('mutex.lock: state word names no owner', 'ECORRUPT', () => corruptMutex.lock({ timeout: 0 }));

  // Semaphore
  add('new Semaphore: initialValue -1', 'RangeError', () => new Semaphore(new SharedArrayBuffer(8), 0, -1));
  add('new Semaphore: initialValue 2**31', 'RangeError', () => new Semaphore(new SharedArrayBuffer(8), 0, 2 ** 31));
  add('new Semaphore: initialValue null', 'TypeError', () => new Semaphore(new SharedArrayBuffer(8), 0, null as never));
  add('new Semaphore: initialValue a string', 'TypeError', () => new Semaphore(new SharedArrayBuffer(8), 0, '1' as never));
  add('semaphore.post(0)', 'RangeError', () => semaphore.post(0));
  add('semaphore.post(1.5)', 'RangeError', () => semaphore.post(1.5));
  add('semaphore.post(null)', 'TypeError', () => semaphore.post(null as never));
  add('semaphore.post past MAX_VALUE', 'EINVAL', () => semaphore.post(Semaphore.MAX_VALUE));
  add('semaphore.wait: timeout -5', 'RangeError', () => semaphore.wait({ timeout: -5 }));
  add('semaphore.wait: signal a string', 'TypeError', () => semaphore.wait({ signal: 'stop' as never }));
  add('semaphore.wait: signal aborted', 'AbortError', () => semaphore.wait({ signal: aborted }));
  add('semaphore.wait: options null', 'TypeError', () => semaphore.wait(null as never));
  add('semaphore.wait: count 0, timeout 0', 'ETIMEDOUT', () => emptySemaphore.wait({ timeout: 0 }));
  add('semaphore.waitSync: count 0, timeout 0', 'ETIMEDOUT', () => emptySemaphore.waitSync({ timeout: 0 }));
  add('semaphore.tryWait: negative count', 'ECORRUPT', () => corruptSemaphore.tryWait());

  // Condition
  add('new Condition: not a SharedArrayBuffer', 'TypeError', () => new Condition({} as never, 0));
  add('new Condition: offset 1', 'RangeError', () => new Condition(buffer, 1));
  add('condition.wait: not a Mutex', 'TypeError', () => condition.wait({} as never));
  add('condition.wait: Mutex not held', 'EPERM', () => condition.wait(freeMutex));
  add('condition.waitSync: Mutex not held', 'EPERM', () => condition.waitSync(freeMutex));
  add('condition.wait: timeout -1', 'RangeError', () => condition.wait(heldMutex, { timeout: -1 }));
  add('condition.waitSync: timeout a string', 'TypeError', () => condition.waitSync(heldMutex, { timeout: 'x' as never }));
  add('condition.wait: signal aborted', 'AbortError', () => condition.wait(heldMutex, { signal: aborted }));
  add('condition.wait: timeout 0', 'ETIMEDOUT', () => condition.wait(heldMutex, { timeout: 0 }));

  // Mailbox.create options
  const create = (what: string, expected: Expected, options: unknown): void =>
    add(`Mailbox.create: ${what}`, expected, () => Mailbox.create(NEVER, options as never));
  create('capacity -1', 'RangeError', { capacity: -1 });
  create('capacity 1.5', 'RangeError', { capacity: 1.5 });
  create('capacity 2**24 + 1', 'RangeError', { capacity: 2 ** 24 + 1 });
  create('capacity 2**24 (too large for one store)', 'RangeError', { capacity: 2 ** 24 });
  create('capacity null', 'TypeError', { capacity: null });
  create('capacity a string', 'TypeError', { capacity: '10' });
  create('maxBytes 0', 'RangeError', { maxBytes: 0 });
  create('maxBytes 2**31', 'RangeError', { maxBytes: 2 ** 31 });
  create('maxBytes null', 'TypeError', { maxBytes: null });
  create('maxMessageSize 0', 'RangeError', { maxMessageSize: 0 });
  create('messageSize -1', 'RangeError', { messageSize: -1 });
  create('messageSize and another maxMessageSize', 'EINVAL', { messageSize: 8, maxMessageSize: 16 });
  create("whenFull 'drop'", 'TypeError', { whenFull: 'drop' });
  create('whenFull null', 'TypeError', { whenFull: null });
  create("codec 'xml'", 'TypeError', { codec: 'xml' });
  create('codec null', 'TypeError', { codec: null });
  create('codec without decode()', 'TypeError', { codec: { encode: () => new Uint8Array() } });
  create('mode null', 'TypeError', { mode: null });
  create('mode 0o7777', 'RangeError', { mode: 0o7777 });
  create('options a string', 'TypeError', 'options');
  create('options an array', 'TypeError', []);
  add('Mailbox.create: name taken', 'EEXIST', () => Mailbox.create(names.ring));
  add('Mailbox.create: name with a space', 'EINVAL', () => Mailbox.create('a b'));

  // Mailbox.open, Mailbox.unlink
  add('Mailbox.open: missing', 'ENOENT', () => Mailbox.open(NEVER));
  add("Mailbox.open: codec 'json' for a utf8 mailbox", 'EINVAL', () => Mailbox.open(names.ring, { codec: 'json' }));
  add('Mailbox.open: codec null', 'TypeError', () => Mailbox.open(names.ring, { codec: null as never }));
  add("Mailbox.open: codec 'nonsense'", 'TypeError', () => Mailbox.open(names.ring, { codec: 'nonsense' as never }));
  add('Mailbox.open: a built-in name for a custom codec', 'EINVAL', () => Mailbox.open(names.fussy, { codec: 'utf8' }));
  add('Mailbox.open: options null', 'TypeError', () => Mailbox.open(names.ring, null as never));
  add('Mailbox.unlink: missing', 'ENOENT', () => Mailbox.unlink(NEVER));
  add('Mailbox.unlink: name a number', 'TypeError', () => Mailbox.unlink(5 as never));

  // Sending
  add('send: type -1', 'RangeError', () => ringBox.send('x', { type: -1 }));
  add('send: type 2**31', 'RangeError', () => ringBox.send('x', { type: 2 ** 31 }));
  add('send: type null', 'TypeError', () => ringBox.send('x', { type: null as never }));
  add('send: timeout -1', 'RangeError', () => ringBox.send('x', { timeout: -1 }));
  add("send: sync 'yes'", 'TypeError', () => ringBox.send('x', { sync: 'yes' as never }));
  add('send: signal not an AbortSignal', 'TypeError', () => ringBox.send('x', { signal: {} as never }));
  add('send: signal aborted', 'AbortError', () => ringBox.send('x', { signal: aborted }));
  add('send: options null', 'TypeError', () => ringBox.send('x', null as never));
  add('send: 65 bytes, maxMessageSize 64', 'EMSGSIZE', () => ringBox.send('x'.repeat(65)));
  add('send: sync, nobody receives, timeout 0', 'ETIMEDOUT', () => listBox.send(new Uint8Array(4), { sync: true, timeout: 0 }));
  add("send: full, whenFull 'fail'", 'EAGAIN', () => full.send('more'));
  add('trySend: type 1.5', 'RangeError', () => ringBox.trySend('x', { type: 1.5 }));
  add('trySend: options null', 'TypeError', () => ringBox.trySend('x', null as never));
  add('trySend: 65 bytes', 'EMSGSIZE', () => ringBox.trySend('x'.repeat(65)));
  add('sendSync: timeout a string', 'TypeError', () => ringBox.sendSync('x', { timeout: '1' as never }));
  add('sendSync: value not a string (utf8 codec)', 'TypeError', () => ringBox.sendSync(42 as never));
  add('trySend: value not a Uint8Array (bytes codec)', 'TypeError', () => listBox.trySend([1, 2] as never));
  add('trySend: undefined (json codec)', 'TypeError', () => json.trySend(undefined));
  add('trySend: a cycle (json codec)', 'TypeError', () => json.trySend(cycle));
  add('trySend: a BigInt (json codec)', 'TypeError', () => json.trySend(10n));
  add("trySend: a value the custom codec's encode() refuses", 'TypeError', () => picky.trySend(-1));
  add('trySend: custom encode() returns a string', 'ReturnValue', () => broken.trySend('x'));

  // Receiving
  add('receive: type and notType', 'EINVAL', () => ringBox.receive({ type: 1, notType: 2 }));
  add('receive: type -1', 'RangeError', () => ringBox.receive({ type: -1 }));
  add('receive: maxType a string', 'TypeError', () => ringBox.receive({ maxType: 'a' as never }));
  add('receive: from 0', 'RangeError', () => ringBox.receive({ from: 0 }));
  add('receive: from null', 'TypeError', () => ringBox.receive({ from: null as never }));
  add('receive: type 1 and notType null', 'TypeError', () => ringBox.receive({ type: 1, notType: null as never }));
  add('receive: timeout -1', 'RangeError', () => ringBox.receive({ timeout: -1 }));
  add('receive: signal aborted', 'AbortError', () => ringBox.receive({ signal: aborted }));
  add('receive: into an ArrayBuffer', 'TypeError', () => ringBox.receive({ into: new ArrayBuffer(8) as never }));
  add('receive: into null', 'TypeError', () => ringBox.receive({ into: null as never }));
  add('receive: into shorter than the message', 'E2BIG', () => ringBox.receive({ into: new Uint8Array(1) }));
  add('receive: spin -1', 'RangeError', () => ringBox.receive({ spin: -1 }));
  add('receive: spin 10**7', 'RangeError', () => ringBox.receive({ spin: 1e7 }));
  add('receive: spin 0.5', 'RangeError', () => ringBox.receive({ spin: 0.5 }));
  add('receive: options a number', 'TypeError', () => ringBox.receive(5 as never));
  add('receive: none of type 99, timeout 0', 'ETIMEDOUT', () => listBox.receive({ type: 99, timeout: 0 }));
  add('tryReceive: options null', 'TypeError', () => ringBox.tryReceive(null as never));
  add('tryReceive: into a string', 'TypeError', () => listBox.tryReceive({ into: 'x' as never }));
  add('tryReceive: into shorter than the message (LIST mode)', 'E2BIG', () => listBox.tryReceive({ into: new Uint8Array(2) }));
  add('receiveSync: timeout NaN', 'RangeError', () => ringBox.receiveSync({ timeout: NaN }));
  add('receiveSync: none of type 99, timeout 0', 'ETIMEDOUT', () => listBox.receiveSync({ type: 99, timeout: 0 }));
  add('tryReceive: a message its codec cannot decode', 'EBADMSG', () => undecodable.tryReceive());

  // A closed handle, a removed mailbox
  add('closed handle: trySend', 'EBADF', () => closed.trySend('x'));
  add('closed handle: receive', 'EBADF', () => closed.receive());
  add('closed handle: stats', 'EBADF', () => closed.stats());
  add('removed mailbox: stats', 'EIDRM', () => gone.stats());
  add('removed mailbox: trySend', 'EIDRM', () => gone.trySend('x'));
  add('removed mailbox: tryReceive', 'EIDRM', () => gone.tryReceive());
  add('removed mailbox: send', 'EIDRM', () => gone.send('x'));
  return calls;
}

// ---- the run -----------------------------------------------------------------------------

test('every bad call fails with its documented error and leaves queued data and the segment intact', { timeout: 120_000 }, async () => {
  const tally = { tried: 0, documented: 0, intact: 0 };
  const problems: string[] = [];
  setUp();
  try {
    assert.equal(intact(), null, 'intact before the first call');
    for (const { what, call, expected } of badCalls()) {
      tally.tried++;
      const outcome = await failure(call);
      const wrong = 'error' in outcome ? mismatch(outcome.error, expected) : `succeeded (${String(outcome.value)})`;
      if (wrong === null) tally.documented++;
      else problems.push(`${what}: expected ${expected}, ${wrong}`);
      const damage = intact();
      if (damage === null) tally.intact++;
      else problems.push(`${what}: afterwards ${damage}`);
    }
  } finally {
    tearDown();
  }
  const intactText = tally.intact === tally.tried ? 'queued data intact' : `queued data intact after only ${tally.intact}`;
  console.log(`bad input: ${tally.tried} calls tried, ${tally.documented} with the documented error, ${intactText}`);
  assert.deepEqual(problems, []);
  assert.ok(tally.tried >= 80, `${tally.tried} calls`);
});
