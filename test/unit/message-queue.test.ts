// MessageQueue in one process, after the Linux Test Project's msgget / msgsnd / msgrcv /
// msgctl cases: which message each receive type takes, E2BIG and MSG_NOERROR, IPC_NOWAIT
// on an empty and on a full queue, EINVAL for a type <= 0 and for sizes no queue takes,
// capacity counted in bytes (an unread message never stops others while there is room),
// set() and stat() as msgctl's IPC_SET / IPC_STAT, keys and their files, the open flags,
// timeouts and signals, remove() and close(), and bad input that loses nothing queued.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { IpcError, MessageQueue, type QueueKey, type MessageQueueOpenOptions } from '../../src/index.ts';
import { objectFileName } from '../../src/core/names.ts';
import { state } from '../helpers/mailbox-client.ts';
import { abortError, ipcError, rangeError, typeError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('message-queue');

const T = { timeout: 20_000 };
const text = new TextDecoder();

let unique = 0;

/** Runs `body` with a fresh queue (a string key unique in this process), removing it afterwards. */
async function withQueue(options: MessageQueueOpenOptions, body: (q: MessageQueue, key: string) => Promise<void> | void): Promise<void> {
  const key = `q-${++unique}`;
  const q = MessageQueue.open(key, { create: true, exclusive: true, ...options });
  try {
    await body(q, key);
  } finally {
    removeIfPresent(key);
    q.close();
  }
}

function removeIfPresent(key: QueueKey): void {
  try {
    using q = MessageQueue.open(key);
    q.remove();
  } catch (error) {
    if (!(error instanceof IpcError) || error.code !== 'ENOENT') throw error;
  }
}

async function typeAndText(q: MessageQueue, options: Parameters<MessageQueue['receive']>[0]): Promise<[number, string]> {
  const message = await q.receive({ nowait: true, ...options });
  return [message.type, text.decode(message.data)];
}

// ---- msgrcv: which message a type takes --------------------------------------------------

test('types 1 and 2 queued: type 0 takes 1, type 2 takes 2, type -2 takes 1, type 2 with except takes 1', T, async () => {
  const cases: Array<[Parameters<MessageQueue['receive']>[0], [number, string]]> = [
    [{ type: 0 }, [1, 'one']],
    [{ type: 2 }, [2, 'two']],
    [{ type: -2 }, [1, 'one']],
    [{ type: 2, except: true }, [1, 'one']],
  ];
  for (const [options, expected] of cases) {
    await withQueue({}, async (q) => {
      await q.send(1, 'one');
      await q.send(2, 'two');
      assert.deepEqual(await typeAndText(q, options), expected, JSON.stringify(options));
      // The other stays queued and is the next one.
      const rest = await typeAndText(q, {});
      assert.deepEqual(rest, expected[0] === 1 ? [2, 'two'] : [1, 'one']);
      assert.equal(q.stat().messages, 0);
    });
  }
});

test('type -n takes the lowest type <= n, the oldest among equals; except is ignored for type 0 and < 0 as on Linux', T, async () => {
  await withQueue({}, async (q) => {
    for (const [type, data] of [[5, 'a'], [3, 'b'], [9, 'c'], [3, 'd'], [1, 'e']] as const) await q.send(type, data);
    assert.deepEqual(await typeAndText(q, { type: -4 }), [1, 'e']);
    assert.deepEqual(await typeAndText(q, { type: -4, except: true }), [3, 'b']);
    assert.deepEqual(await typeAndText(q, { type: -4 }), [3, 'd']);
    await assert.rejects(q.receive({ type: -4, nowait: true }), ipcError('ENOMSG'));
    assert.deepEqual(await typeAndText(q, { type: 0, except: true }), [5, 'a']);
    assert.deepEqual(await typeAndText(q, { type: 9 }), [9, 'c']);
  });
});

test('the message says who sent it: from is the sender pid', T, async () => {
  await withQueue({}, async (q) => {
    await q.send(7, new Uint8Array([1, 2, 3]));
    const message = await q.receive();
    assert.deepEqual(message, { type: 7, data: new Uint8Array([1, 2, 3]), from: process.pid });
  });
});

// ---- msgrcv: sizes --------------------------------------------------------------------------

test('a first match longer than maxSize: E2BIG and it stays queued; with noError it is taken cut to maxSize', T, async () => {
  await withQueue({}, async (q) => {
    await q.send(1, 'short');
    await q.send(2, 'a rather longer message');
    // The first message of type 2 is too long: E2BIG names it, nothing is taken.
    await assert.rejects(q.receive({ type: 2, maxSize: 10, nowait: true }), (error: unknown) => {
      assert.ok(error instanceof IpcError && error.code === 'E2BIG');
      assert.match(error.message, /message queue "q-\d+": the first message of type 2 is longer than maxSize 10; it stays queued/);
      return true;
    });
    await assert.rejects(q.receive({ type: 2, maxSize: 10 }), ipcError('E2BIG'), 'a waiting receive too');
    await assert.rejects(q.receive({ maxSize: 4, nowait: true }), (error: unknown) => {
      assert.ok(error instanceof IpcError && error.code === 'E2BIG');
      assert.match(error.message, /message queue "q-\d+": the first message is longer than maxSize 4; it stays queued/);
      return true;
    });
    assert.deepEqual([q.stat().messages, q.stat().bytes], [2, 5 + 23]);
    // A message that fits is taken whatever maxSize allows beyond it.
    assert.deepEqual(await typeAndText(q, { maxSize: 5 }), [1, 'short']);
    const cut = await q.receive({ type: 2, maxSize: 10, noError: true });
    assert.equal(text.decode(cut.data), 'a rather l');
    assert.equal(cut.type, 2);
    // The rest was discarded with it.
    assert.deepEqual([q.stat().messages, q.stat().bytes], [0, 0]);
    await q.send(3, 'x');
    assert.equal((await q.receive({ maxSize: 0, noError: true })).data.length, 0, 'maxSize 0 with noError takes it empty');
    await q.send(3, '');
    assert.equal((await q.receive({ maxSize: 0 })).data.length, 0, 'an empty message fits maxSize 0');
  });
});

test('a receive waiting for its type gets E2BIG when the first match to arrive is too long, and the message stays', T, async () => {
  await withQueue({}, async (q) => {
    const waiting = q.receive({ type: 4, maxSize: 4 });
    assert.equal(await state(waiting), 'pending');
    await q.send(3, 'not this type');
    assert.equal(await state(waiting), 'pending');
    await q.send(4, 'too long');
    await assert.rejects(waiting, ipcError('E2BIG'));
    assert.deepEqual(await typeAndText(q, { type: 4 }), [4, 'too long']);
    assert.deepEqual(await typeAndText(q, {}), [3, 'not this type']);
  });
});

test('timeout and signal end a waiting send or receive with nothing sent or taken', T, async () => {
  await withQueue({ maxBytes: 10 }, async (q) => {
    await assert.rejects(q.receive({ timeout: 5 }), ipcError('ETIMEDOUT'));
    const controller = new AbortController();
    const receiving = q.receive({ type: 2, signal: controller.signal });
    assert.equal(await state(receiving), 'pending');
    controller.abort();
    await assert.rejects(receiving, abortError);
    await q.send(1, '0123456789');
    const full = new AbortController();
    const sending = q.send(2, 'x', { signal: full.signal });
    assert.equal(await state(sending), 'pending');
    full.abort();
    await assert.rejects(sending, abortError);
    await assert.rejects(q.send(2, 'x', { signal: AbortSignal.abort() }), abortError);
    await assert.rejects(q.receive({ nowait: true, signal: AbortSignal.abort() }), abortError);
    assert.deepEqual([q.stat().messages, q.stat().bytes], [1, 10]);
    assert.deepEqual(await typeAndText(q, {}), [1, '0123456789']);
  });
});

test('a message longer than 8192 bytes (MSGMAX) or than the queue\'s capacity is EINVAL; nothing is sent', T, async () => {
  await withQueue({ maxBytes: 100_000 }, async (q) => {
    await q.send(1, new Uint8Array(8192));
    await assert.rejects(q.send(1, new Uint8Array(8193)), ipcError('EINVAL'));
    assert.equal(q.stat().messages, 1);
  });
  await withQueue({ maxBytes: 100 }, async (q) => {
    await q.send(1, new Uint8Array(100));
    await assert.rejects(q.send(1, new Uint8Array(101)), ipcError('EINVAL'));
    assert.equal(q.stat().messages, 1);
  });
});

// ---- IPC_NOWAIT -----------------------------------------------------------------------------

test('nowait with nothing matching is ENOMSG, on an empty queue and past other types; nothing is taken', T, async () => {
  await withQueue({}, async (q) => {
    await assert.rejects(q.receive({ nowait: true }), ipcError('ENOMSG'));
    await q.send(3, 'three');
    await assert.rejects(q.receive({ type: 4, nowait: true }), ipcError('ENOMSG'));
    await assert.rejects(q.receive({ type: 3, except: true, nowait: true }), ipcError('ENOMSG'));
    await assert.rejects(q.receive({ type: -2, nowait: true }), ipcError('ENOMSG'));
    assert.deepEqual(await typeAndText(q, {}), [3, 'three']);
  });
});

test('a full queue: nowait is EAGAIN, a waiting send times out leaving nothing, and a receive makes room', T, async () => {
  await withQueue({ maxBytes: 100 }, async (q) => {
    await q.send(1, new Uint8Array(60));
    await assert.rejects(q.send(1, new Uint8Array(41), { nowait: true }), ipcError('EAGAIN'));
    await assert.rejects(q.send(1, new Uint8Array(41), { timeout: 20 }), ipcError('ETIMEDOUT'));
    assert.deepEqual([q.stat().messages, q.stat().bytes], [1, 60]);
    await q.send(1, new Uint8Array(40), { nowait: true });
    const blocked = q.send(2, new Uint8Array(50));
    assert.equal(await state(blocked), 'pending');
    await q.receive();
    await blocked;
    assert.deepEqual([q.stat().messages, q.stat().bytes], [2, 90]);
  });
});

test('a queue holds at most maxBytes messages, as Linux (msg_qnum <= msg_qbytes): empty ones too', T, async () => {
  await withQueue({ maxBytes: 3 }, async (q) => {
    for (let i = 0; i < 3; i++) await q.send(1, '', { nowait: true });
    await assert.rejects(q.send(1, '', { nowait: true }), ipcError('EAGAIN'));
    assert.deepEqual([q.stat().messages, q.stat().bytes], [3, 0]);
  });
});

// ---- capacity in bytes ----------------------------------------------------------------------

test('capacity is the bytes queued: an unread type-9 message at the front never stops a stream of type-1 messages', T, async () => {
  await withQueue({ maxBytes: 1000 }, async (q) => {
    await q.send(9, new Uint8Array(600));
    const payload = new Uint8Array(300);
    for (let i = 0; i < 2000; i++) {
      payload[0] = i & 0xff;
      // nowait: a queue that had no room would say EAGAIN at once.
      await q.send(1, payload, { nowait: true });
      const message = await q.receive({ type: 1, nowait: true });
      assert.equal(message.data[0], i & 0xff);
    }
    assert.deepEqual([q.stat().messages, q.stat().bytes], [1, 600]);
    // And the room left beside it is what the bytes say: 400.
    await q.send(1, new Uint8Array(400), { nowait: true });
    await assert.rejects(q.send(1, new Uint8Array(1), { nowait: true }), ipcError('EAGAIN'));
    assert.equal((await q.receive({ type: 9, nowait: true })).data.length, 600);
  });
});

// ---- msgctl: IPC_STAT, IPC_SET --------------------------------------------------------------

test('stat(): counts, bytes, last pids and times move as Linux\'s do; mode and uid are the queue\'s', T, async () => {
  const before = Date.now();
  await withQueue({ mode: 0o640 }, async (q) => {
    const fresh = q.stat();
    assert.deepEqual(
      { ...fresh, changeTime: 0 },
      { messages: 0, bytes: 0, maxBytes: 16384, lastSendPid: 0, lastReceivePid: 0, lastSendTime: 0, lastReceiveTime: 0, changeTime: 0, mode: 0o640, uid: process.geteuid!() },
    );
    assert.ok(fresh.changeTime >= before && fresh.changeTime <= Date.now(), `changeTime ${fresh.changeTime} is the creation`);
    const sentAfter = Date.now();
    await q.send(4, 'four');
    await q.send(5, 'five!');
    const sent = q.stat();
    assert.deepEqual([sent.messages, sent.bytes, sent.lastSendPid, sent.lastReceivePid, sent.lastReceiveTime], [2, 9, process.pid, 0, 0]);
    assert.ok(sent.lastSendTime >= sentAfter && sent.lastSendTime <= Date.now(), 'lastSendTime is in ms since the epoch');
    assert.equal(sent.changeTime, fresh.changeTime, 'sending changes no change time');
    const receivedAfter = Date.now();
    await q.receive({ type: 5 });
    const received = q.stat();
    assert.deepEqual([received.messages, received.bytes, received.lastReceivePid], [1, 4, process.pid]);
    assert.ok(received.lastReceiveTime >= receivedAfter && received.lastReceiveTime <= Date.now());
    assert.equal(received.lastSendTime, sent.lastSendTime, 'a receive leaves the send time');
  });
});

test('set({ maxBytes }) lowers the capacity of the live queue: what is queued stays, senders wait until bytes drop below', T, async () => {
  await withQueue({}, async (q) => {
    const created = q.stat().changeTime;
    for (let i = 0; i < 4; i++) await q.send(1, new Uint8Array(100));
    q.set({ maxBytes: 250 });
    const lowered = q.stat();
    assert.deepEqual([lowered.maxBytes, lowered.messages, lowered.bytes], [250, 4, 400]);
    assert.ok(lowered.changeTime >= created, 'set() moves the change time');
    await assert.rejects(q.send(1, new Uint8Array(1), { nowait: true }), ipcError('EAGAIN'));
    await assert.rejects(q.send(1, new Uint8Array(251)), ipcError('EINVAL'), 'longer than the new capacity');
    const blocked = q.send(2, new Uint8Array(50));
    await q.receive();
    await q.receive();
    assert.equal(await state(blocked), 'pending', '200 bytes queued: 50 more do not fit 250');
    await q.receive();
    await blocked;
    assert.deepEqual([q.stat().messages, q.stat().bytes], [2, 150]);
    // Raised again, room is there at once.
    q.set({ maxBytes: 100_000 });
    await q.send(1, new Uint8Array(8192), { nowait: true });
    assert.equal(q.stat().maxBytes, 100_000);
  });
});

test('set({ mode }) changes who may open the queue: the file\'s mode and stat().mode', T, async () => {
  await withQueue({}, async (q, key) => {
    q.set({ mode: 0o604 });
    assert.equal(q.stat().mode, 0o604);
    assert.equal(statSync(`/dev/shm/${objectFileName('mq', key)}`).mode & 0o777, 0o604);
  });
});

// ---- keys and msgget's flags ----------------------------------------------------------------

test('a number key names the file as ipcs shows it: 42 is interproc.<ns>.mq.0x0000002a, and the string "0x0000002a" is the same queue', T, async () => {
  removeIfPresent(42);
  using q = MessageQueue.open(42, { create: true, exclusive: true });
  try {
    assert.equal(q.key, 42);
    assert.ok(existsSync(`/dev/shm/${objectFileName('mq', '0x0000002a')}`));
    await q.send(1, 'by number');
    using same = MessageQueue.open('0x0000002a');
    assert.deepEqual(await typeAndText(same, {}), [1, 'by number']);
    using widest = MessageQueue.open(0xffffffff, { create: true });
    assert.ok(existsSync(`/dev/shm/${objectFileName('mq', '0xffffffff')}`));
    // key_t is signed in C (ftok with proj_id >= 0x80 gives a negative key): -1 is 0xffffffff.
    using negative = MessageQueue.open(-1);
    assert.equal(negative.key, 0xffffffff);
    await widest.send(3, 'by a negative key');
    assert.deepEqual(await typeAndText(negative, {}), [3, 'by a negative key']);
    widest.remove();
  } finally {
    q.remove();
  }
});

test('open: ENOENT without create; create opens an existing queue; create + exclusive is EEXIST', T, async () => {
  assert.throws(() => MessageQueue.open('nobody-made-it'), ipcError('ENOENT'));
  assert.throws(() => MessageQueue.open(77), ipcError('ENOENT'));
  assert.throws(() => MessageQueue.open('nobody-made-it', { exclusive: true }), ipcError('ENOENT'), 'exclusive alone creates nothing');
  await withQueue({ maxBytes: 500, mode: 0o600 }, async (q, key) => {
    await q.send(1, 'already here');
    assert.throws(() => MessageQueue.open(key, { create: true, exclusive: true }), ipcError('EEXIST'));
    // An existing queue keeps its own capacity and mode.
    using again = MessageQueue.open(key, { create: true, maxBytes: 9000, mode: 0o666 });
    assert.deepEqual([again.stat().maxBytes, again.stat().mode], [500, 0o600]);
    assert.deepEqual(await typeAndText(again, {}), [1, 'already here']);
  });
  using made = MessageQueue.open('made-by-create', { create: true });
  assert.equal(made.stat().maxBytes, 16384, 'default capacity: MSGMNB');
  assert.equal(made.stat().mode, 0o600, 'default mode');
  made.remove();
});

// ---- IPC_RMID and close ---------------------------------------------------------------------

test('remove(): a blocked receiver and sender fail with EIDRM, and so does every later use; the key is free again', T, async () => {
  const q = MessageQueue.open('removed', { create: true, maxBytes: 10 });
  using other = MessageQueue.open('removed');
  await q.send(1, new Uint8Array(10));
  const receiver = other.receive({ type: 5 });
  const sender = other.send(1, new Uint8Array(5));
  assert.equal(await state(receiver), 'pending');
  assert.equal(await state(sender), 'pending');
  q.remove();
  await assert.rejects(receiver, ipcError('EIDRM'));
  await assert.rejects(sender, ipcError('EIDRM'));
  for (const handle of [q, other]) {
    await assert.rejects(handle.send(1, 'x'), ipcError('EIDRM'));
    await assert.rejects(handle.receive({ nowait: true }), ipcError('EIDRM'));
    assert.throws(() => handle.stat(), ipcError('EIDRM'));
    assert.throws(() => handle.set({ maxBytes: 100 }), ipcError('EIDRM'));
    assert.throws(() => handle.set({ mode: 0o666 }), ipcError('EIDRM'));
    assert.throws(() => handle.remove(), ipcError('EIDRM'));
  }
  q.close();
  // A new queue under the key is another queue: the old handle cannot remove it.
  using renewed = MessageQueue.open('removed', { create: true, exclusive: true });
  assert.throws(() => other.remove(), ipcError('EIDRM'));
  await renewed.send(1, 'still here');
  assert.equal(renewed.stat().messages, 1);
  renewed.remove();
});

test('close(): pending calls of the handle reject with EBADF, later calls too; the queue lives on', T, async () => {
  await withQueue({}, async (q, key) => {
    const pending = q.receive();
    q.close();
    await assert.rejects(pending, ipcError('EBADF'));
    await assert.rejects(q.send(1, 'x'), ipcError('EBADF'));
    assert.throws(() => q.stat(), ipcError('EBADF'));
    q.close();
    using again = MessageQueue.open(key);
    assert.equal(again.stat().messages, 0);
  });
});

test('the lecture\'s example: P_A creates and sends, P_C sends type 1, P_B sends, P_B receives the first type-1 message', T, async () => {
  await withQueue({}, async (pA, key) => {
    using pB = MessageQueue.open(key);
    using pC = MessageQueue.open(key);
    // Linux wants a type > 0: the lecture's "type 0" messages are type 2 here.
    await pA.send(2, 'from P_A');
    await pC.send(1, 'from P_C');
    await pB.send(2, 'from P_B');
    assert.deepEqual(await typeAndText(pB, { type: 1 }), [1, 'from P_C']);
    assert.deepEqual(await typeAndText(pA, {}), [2, 'from P_A']);
    assert.deepEqual(await typeAndText(pA, {}), [2, 'from P_B']);
  });
});

// ---- bad input ------------------------------------------------------------------------------

test('send type 0 or negative is EINVAL (msgsnd), other wrong types a TypeError or RangeError; nothing is sent', T, async () => {
  await withQueue({}, async (q) => {
    await q.send(1, 'kept');
    await assert.rejects(q.send(0, 'x'), ipcError('EINVAL'));
    await assert.rejects(q.send(-1, 'x'), ipcError('EINVAL'));
    await assert.rejects(q.send(-(2 ** 40), 'x'), ipcError('EINVAL'));
    await assert.rejects(q.send(1.5, 'x'), rangeError);
    await assert.rejects(q.send(2 ** 31, 'x'), rangeError);
    await assert.rejects(q.send(Number.NaN, 'x'), rangeError);
    await assert.rejects(q.send('1' as never, 'x'), typeError);
    await assert.rejects(q.send(1, 42 as never), typeError);
    await assert.rejects(q.send(1, null as never), typeError);
    await assert.rejects(q.send(1, new Uint16Array(2) as never), typeError);
    await assert.rejects(q.send(1, 'x', null as never), typeError);
    await assert.rejects(q.send(1, 'x', { nowait: 1 } as never), typeError);
    await assert.rejects(q.send(1, 'x', { timeout: -1 }), rangeError);
    await assert.rejects(q.send(1, 'x', { signal: {} } as never), typeError);
    assert.deepEqual([q.stat().messages, q.stat().bytes], [1, 4]);
    assert.deepEqual(await typeAndText(q, {}), [1, 'kept']);
  });
});

test('receive options out of range or of the wrong type: TypeError or RangeError; nothing is taken', T, async () => {
  await withQueue({}, async (q) => {
    await q.send(1, 'kept');
    await assert.rejects(q.receive({ type: 2 ** 31 }), rangeError);
    await assert.rejects(q.receive({ type: -(2 ** 31) }), rangeError);
    await assert.rejects(q.receive({ type: 0.5 }), rangeError);
    await assert.rejects(q.receive({ type: '1' } as never), typeError);
    await assert.rejects(q.receive({ except: 1 } as never), typeError);
    await assert.rejects(q.receive({ maxSize: -1 }), rangeError);
    await assert.rejects(q.receive({ maxSize: Infinity }), rangeError);
    await assert.rejects(q.receive({ noError: 'yes' } as never), typeError);
    await assert.rejects(q.receive({ nowait: null } as never), typeError);
    await assert.rejects(q.receive({ timeout: Number.NaN }), rangeError);
    await assert.rejects(q.receive(null as never), typeError);
    await assert.rejects(q.receive([] as never), typeError);
    assert.equal(q.stat().messages, 1);
    assert.deepEqual(await typeAndText(q, {}), [1, 'kept']);
  });
});

test('keys and open options: clear errors, and a queue already there is unharmed', T, async () => {
  await withQueue({}, async (q, key) => {
    await q.send(1, 'kept');
    assert.throws(() => MessageQueue.open(0, { create: true }), ipcError('EINVAL'), 'IPC_PRIVATE');
    assert.throws(() => MessageQueue.open(-(2 ** 31) - 1), rangeError);
    assert.throws(() => MessageQueue.open(2 ** 32), rangeError);
    assert.throws(() => MessageQueue.open(1.5), rangeError);
    assert.throws(() => MessageQueue.open(Number.NaN), rangeError);
    assert.throws(() => MessageQueue.open(''), ipcError('EINVAL'));
    assert.throws(() => MessageQueue.open('.hidden'), ipcError('EINVAL'));
    assert.throws(() => MessageQueue.open('a/b'), ipcError('EINVAL'));
    assert.throws(() => MessageQueue.open(null as never), typeError);
    assert.throws(() => MessageQueue.open(42n as never), typeError);
    assert.throws(() => MessageQueue.open(key, { create: 'yes' } as never), typeError);
    assert.throws(() => MessageQueue.open(key, { exclusive: 1 } as never), typeError);
    assert.throws(() => MessageQueue.open(key, { create: true, maxBytes: 0 }), rangeError);
    assert.throws(() => MessageQueue.open(key, { create: true, maxBytes: 2 ** 20 + 1 }), rangeError);
    assert.throws(() => MessageQueue.open(key, { create: true, mode: 0o1000 }), rangeError);
    assert.throws(() => MessageQueue.open(key, { trustedUids: 'nobody' } as never), typeError);
    assert.throws(() => MessageQueue.open(key, null as never), typeError);
    assert.throws(() => q.set({ maxBytes: 0 }), rangeError);
    assert.throws(() => q.set({ maxBytes: '1' } as never), typeError);
    assert.throws(() => q.set({ mode: -1 }), rangeError);
    assert.throws(() => q.set(null as never), typeError);
    const stat = q.stat();
    assert.deepEqual([stat.messages, stat.maxBytes, stat.mode], [1, 16384, 0o600]);
    assert.deepEqual(await typeAndText(q, {}), [1, 'kept']);
  });
});
