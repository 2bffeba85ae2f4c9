// Mailbox semantics within one process: buffering (zero, bounded with 'fail' or 'block'),
// blocking sends, message length limits, codecs, selectors, timeouts, abort, close, async
// iteration, stats and names. The same semantics across real processes are in
// test/xproc/mailbox-*.test.ts; random sequences against a model in
// test/fuzz/mailbox-model.test.ts.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import { IpcError, Mailbox, SharedMemory, type Codec, type MailboxOptions } from '../../src/index.ts';
import { state, until, waitingReceivers, waitingSenders } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';
import { withMailbox as withFreshMailbox } from '../support/mailbox.ts';

useNamespace('mailbox-unit');

// No test may hang: a lost wake-up fails it instead.
const T = { timeout: 10_000 };

function code(expected: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, expected, String(error));
    if (expected.startsWith('E')) assert.ok(error instanceof IpcError, `expected an IpcError, got ${String(error)}`);
    return true;
  };
}

function typeError(error: unknown): boolean {
  assert.ok(error instanceof TypeError, String(error));
  assert.equal((error as { code?: unknown }).code, 'ERR_INVALID_ARG_TYPE');
  return true;
}

function rangeError(error: unknown): boolean {
  assert.ok(error instanceof RangeError, String(error));
  assert.equal((error as { code?: unknown }).code, 'ERR_OUT_OF_RANGE');
  return true;
}

/** Runs `body` with a fresh mailbox, removing it afterwards whatever happens. */
function withMailbox<T>(options: MailboxOptions<T>, body: (mb: Mailbox<T>, name: string) => Promise<void> | void): Promise<void> {
  return withFreshMailbox('mb', options, body);
}

function drain<T>(mb: Mailbox<T>): T[] {
  const out: T[] = [];
  for (let m = mb.tryReceive(); m !== null; m = mb.tryReceive()) out.push(m.data);
  return out;
}

// ---- zero capacity -----------------------------------------------------------------------

test('zero capacity: a send stays pending while no receiver exists and completes once one takes it', T, async () => {
  await withMailbox<string>({ capacity: 0, codec: 'utf8' }, async (mb, name) => {
    const sent = mb.send('hello');
    // Handshake: the sender is blocked inside the mailbox.
    await waitingSenders(mb, 1);
    assert.equal(await state(sent), 'pending');
    using receiver = Mailbox.open<string>(name);
    const message = await receiver.receive();
    assert.equal(message.data, 'hello');
    await sent;
    assert.equal(mb.stats().messages, 0);
    assert.equal(mb.stats().waitingSenders, 0);
  });
});

test('zero capacity: trySend with nobody waiting returns false and enqueues nothing', T, async () => {
  await withMailbox<string>({ capacity: 0, codec: 'utf8' }, (mb) => {
    assert.equal(mb.trySend('lost?'), false);
    const stats = mb.stats();
    assert.equal(stats.messages, 0);
    assert.equal(stats.bytes, 0);
    assert.equal(stats.totalSent, 0);
    assert.equal(mb.tryReceive(), null);
  });
});

test('zero capacity: trySend hands the message to a receiver blocked now, if its selector takes it', T, async () => {
  await withMailbox<string>({ capacity: 0, codec: 'utf8' }, async (mb, name) => {
    using receiver = Mailbox.open<string>(name);
    const plain = receiver.receive();
    await waitingReceivers(mb, 1);
    assert.equal(mb.trySend('one'), true);
    assert.equal((await plain).data, 'one');

    const typed = receiver.receive({ type: 2 });
    await waitingReceivers(mb, 1);
    assert.equal(mb.trySend('wrong type', { type: 1 }), false, 'the only receiver waits for type 2');
    assert.equal(mb.stats().messages, 0);
    assert.equal(mb.trySend('right type', { type: 2 }), true);
    const message = await typed;
    assert.deepEqual([message.data, message.type], ['right type', 2]);
    assert.equal(mb.stats().messages, 0);
  });
});

test('zero capacity: a send that times out or is aborted leaves nothing behind', T, async () => {
  await withMailbox<string>({ capacity: 0, codec: 'utf8' }, async (mb) => {
    await assert.rejects(mb.send('late', { timeout: 20 }), code('ETIMEDOUT'));
    assert.throws(() => mb.sendSync('late', { timeout: 5 }), code('ETIMEDOUT'));
    const abort = new AbortController();
    const sent = mb.send('aborted', { signal: abort.signal });
    await waitingSenders(mb, 1);
    abort.abort();
    await assert.rejects(sent, code('ABORT_ERR'));
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.waitingSenders, stats.totalSent], [0, 0, 0]);
    assert.equal(mb.tryReceive(), null);
  });
});

// ---- blocking send (sync: true) ------------------------------------------------------------

test('sync: true resolves only once a receiver has taken the message; on timeout it is withdrawn', T, async () => {
  await withMailbox<string>({ capacity: 4, codec: 'utf8' }, async (mb) => {
    const sent = mb.send('handed over', { sync: true });
    await waitingSenders(mb, 1);
    assert.equal(await state(sent), 'pending');
    assert.equal(mb.stats().messages, 1, 'a bounded mailbox buffers it meanwhile');
    assert.equal(mb.tryReceive()?.data, 'handed over');
    await sent;

    mb.trySend('queued before');
    await assert.rejects(mb.send('nobody takes this', { sync: true, timeout: 20 }), code('ETIMEDOUT'));
    assert.deepEqual(drain(mb), ['queued before'], 'the timed-out message was withdrawn; the other stays');
  });
});

test('sync: true still resolves when the arena shrank and regrew after its message was taken', T, async () => {
  // 4000-byte messages take 17 cells of 256 bytes; the arena starts with 256 cells, so the
  // 16th message makes it grow, and draining shrinks it back. The 16th message of the next
  // round then lands in the very cell the first round's 16th had.
  await withMailbox<Uint8Array>({ capacity: 100, maxMessageSize: 4096, codec: 'bytes' }, async (mb) => {
    const big = (tag: number): Uint8Array => new Uint8Array(4000).fill(tag);
    for (let i = 0; i < 15; i++) assert.equal(mb.trySend(big(i)), true);
    const abort = new AbortController();
    const blocking = mb.send(big(15), { sync: true, signal: abort.signal });
    // Synchronously (the sender cannot look meanwhile): take all 16, then send 16 more.
    for (let i = 0; i < 16; i++) assert.equal(mb.tryReceive()?.data[0], i);
    for (let i = 0; i < 16; i++) assert.equal(mb.trySend(big(100 + i)), true);
    await until('the blocking send sees its message was taken', () => mb.stats().waitingSenders === 0, 2000).catch(() => undefined);
    const outcome = await state(blocking);
    abort.abort();
    const settled = await blocking.then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    assert.equal(settled, 'resolved', `its message was received, yet the send ${outcome === 'pending' ? 'kept waiting' : 'failed'}`);
    assert.deepEqual(
      drain(mb).map((data) => data[0]),
      Array.from({ length: 16 }, (_, i) => 100 + i),
      "giving up must never withdraw another sender's message",
    );
  });
});

// ---- bounded: fail or block ---------------------------------------------------------------

test("bounded, whenFull 'fail': send rejects EAGAIN, trySend returns false, the queue is untouched", T, async () => {
  await withMailbox<string>({ capacity: 2, whenFull: 'fail', codec: 'utf8' }, async (mb) => {
    await mb.send('a');
    await mb.send('b');
    await assert.rejects(mb.send('c'), code('EAGAIN'));
    assert.throws(() => mb.sendSync('c'), code('EAGAIN'));
    assert.equal(mb.trySend('c'), false);
    assert.equal(mb.stats().messages, 2);
    assert.deepEqual(drain(mb), ['a', 'b']);
    assert.equal(mb.trySend('c'), true, 'room again once drained');
  });
});

test("bounded, whenFull 'block': send waits until a receive frees room; with a timeout: ETIMEDOUT and nothing enqueued", T, async () => {
  await withMailbox<string>({ capacity: 2, codec: 'utf8' }, async (mb) => {
    await mb.send('a');
    await mb.send('b');
    assert.equal(mb.trySend('x'), false);
    const third = mb.send('c');
    await waitingSenders(mb, 1);
    assert.equal(await state(third), 'pending');
    assert.equal(mb.tryReceive()?.data, 'a');
    await third;
    assert.equal(mb.stats().messages, 2);

    await assert.rejects(mb.send('late', { timeout: 20 }), code('ETIMEDOUT'));
    assert.throws(() => mb.sendSync('late', { timeout: 5 }), code('ETIMEDOUT'));
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.waitingSenders], [2, 0]);
    assert.deepEqual(drain(mb), ['b', 'c']);
  });
});

test('bounded by bytes: a send waits while the byte budget is spent', T, async () => {
  await withMailbox<string>({ capacity: 10, maxBytes: 10, codec: 'utf8' }, async (mb) => {
    await mb.send('aaaaaa');
    assert.equal(mb.trySend('bbbbbb'), false, '6 + 6 bytes exceed maxBytes 10');
    assert.equal(mb.trySend('bbbb'), true, '6 + 4 bytes fit exactly');
    const blocked = mb.send('cc');
    await waitingSenders(mb, 1);
    assert.equal(await state(blocked), 'pending');
    assert.equal(mb.tryReceive()?.data, 'aaaaaa');
    await blocked;
    assert.deepEqual(drain(mb), ['bbbb', 'cc']);
  });
});

// ---- message length ------------------------------------------------------------------------

test('unbounded capacity grows the shared memory as needed and gives it back when drained', T, async () => {
  await withMailbox<Uint8Array>({ capacity: Infinity, codec: 'bytes' }, (mb, name) => {
    const file = `/dev/shm/interproc.${process.env.INTERPROC_NAMESPACE}.mailbox.${name}`;
    // Memory really held by the file (tmpfs pages), not its apparent size.
    const held = (): number => statSync(file).blocks * 512;
    const start = held();
    const payload = new Uint8Array(1000);
    const count = 20_000; // 20 MB of payload: far beyond the initial arena
    for (let i = 0; i < count; i++) {
      payload[0] = i & 0xff;
      payload[999] = (i >> 8) & 0xff;
      assert.equal(mb.trySend(payload), true, `an unbounded mailbox refused message ${i}`);
    }
    assert.equal(mb.stats().messages, count);
    assert.ok(held() >= start + count * 1000, `${held()} bytes held after ${count} KB queued (started at ${start})`);
    // A second handle sees the grown arena too.
    const other = Mailbox.open<Uint8Array>(name);
    try {
      for (let i = 0; i < count; i++) {
        const message = other.tryReceive();
        assert.ok(message !== null, `message ${i} missing`);
        assert.equal(message.data[0], i & 0xff);
        assert.equal(message.data[999], (i >> 8) & 0xff);
      }
      assert.equal(other.tryReceive(), null);
    } finally {
      other.close();
    }
    assert.ok(held() <= start + 64 * 1024, `${held()} bytes still held once drained (started at ${start})`);
  });
});

test('EMSGSIZE: over maxMessageSize, not exactly messageSize, larger than maxBytes; queued messages untouched', T, async () => {
  await withMailbox<string>({ maxMessageSize: 16, codec: 'utf8' }, async (mb) => {
    mb.trySend('keep 1');
    mb.trySend('keep 2');
    await assert.rejects(mb.send('x'.repeat(17)), code('EMSGSIZE'));
    assert.throws(() => mb.trySend('x'.repeat(17)), code('EMSGSIZE'));
    assert.throws(() => mb.sendSync('x'.repeat(17)), code('EMSGSIZE'));
    assert.throws(() => mb.trySend('é'.repeat(9)), code('EMSGSIZE'), 'the limit is in bytes: 9 × é is 18 bytes');
    assert.deepEqual([mb.stats().messages, mb.stats().bytes], [2, 12]);
    mb.trySend('x'.repeat(16));
    assert.deepEqual(drain(mb), ['keep 1', 'keep 2', 'x'.repeat(16)]);
  });
  await withMailbox<Uint8Array>({ messageSize: 8, codec: 'bytes' }, async (mb) => {
    mb.trySend(new Uint8Array(8).fill(1));
    for (const size of [0, 7, 9, 100]) {
      assert.throws(() => mb.trySend(new Uint8Array(size)), code('EMSGSIZE'), `${size} bytes`);
      await assert.rejects(mb.send(new Uint8Array(size)), code('EMSGSIZE'), `${size} bytes`);
    }
    assert.equal(mb.stats().messages, 1);
    assert.deepEqual(drain(mb), [new Uint8Array(8).fill(1)]);
  });
  await withMailbox<Uint8Array>({ maxBytes: 100, codec: 'bytes' }, async (mb) => {
    mb.trySend(new Uint8Array(1).fill(7));
    await assert.rejects(mb.send(new Uint8Array(101)), code('EMSGSIZE'));
    assert.throws(() => mb.trySend(new Uint8Array(101)), code('EMSGSIZE'));
    assert.equal(mb.trySend(new Uint8Array(100)), false, '100 bytes fit the buffer, but not with 1 byte queued');
    assert.deepEqual(drain(mb), [new Uint8Array(1).fill(7)]);
    assert.equal(mb.trySend(new Uint8Array(100)), true);
  });
});

// ---- codecs ------------------------------------------------------------------------------------

test('codecs: structured, json, utf8, bytes, and a custom codec', T, async () => {
  await withMailbox<unknown>({}, (mb) => {
    const values = [
      { a: 1, nested: { list: [1, 'two', null] } },
      new Map<unknown, unknown>([[1, 'one'], ['k', { v: true }]]),
      new Date(1_700_000_000_000),
      10n ** 30n,
      new Set([1, 2]),
      'text',
      undefined,
    ];
    for (const value of values) mb.trySend(value);
    for (const value of values) assert.deepEqual(mb.tryReceive()?.data, value);
  });
  await withMailbox<unknown>({ codec: 'json' }, (mb) => {
    mb.trySend({ list: [1, 'x', null], flag: false });
    assert.deepEqual(mb.tryReceive()?.data, { list: [1, 'x', null], flag: false });
    assert.throws(() => mb.trySend(undefined), typeError);
    assert.throws(() => mb.trySend(1n), TypeError);
    assert.equal(mb.stats().messages, 0);
  });
  await withMailbox<string>({ codec: 'utf8' }, (mb) => {
    mb.trySend('héllo 🌍');
    assert.equal(mb.tryReceive()?.data, 'héllo 🌍');
    assert.throws(() => mb.trySend(42 as unknown as string), typeError);
    assert.throws(() => mb.trySend(null as unknown as string), typeError);
    assert.equal(mb.stats().messages, 0);
  });
  await withMailbox<ArrayBufferView>({ codec: 'bytes' }, (mb) => {
    mb.trySend(new Uint8Array([1, 2, 3]));
    mb.trySend(new Uint16Array([0x0102]));
    mb.trySend(new Uint8Array(0));
    assert.deepEqual(mb.tryReceive()?.data, new Uint8Array([1, 2, 3]));
    assert.deepEqual(mb.tryReceive()?.data, new Uint8Array(new Uint16Array([0x0102]).buffer));
    assert.deepEqual(mb.tryReceive()?.data, new Uint8Array(0));
    assert.throws(() => mb.trySend([1, 2] as unknown as Uint8Array), typeError);
  });

  // A custom codec: every opener must bring it.
  const upper: Codec<string> = {
    encode: (value) => new TextEncoder().encode(value.toUpperCase()),
    decode: (bytes) => `<${new TextDecoder().decode(bytes)}>`,
  };
  await withMailbox<string>({ codec: upper }, (mb, name) => {
    assert.throws(() => Mailbox.open(name), code('EINVAL'));
    assert.throws(() => Mailbox.open(name, { codec: 'utf8' }), code('EINVAL'));
    using other = Mailbox.open<string>(name, { codec: upper });
    mb.trySend('hi');
    assert.equal(other.tryReceive()?.data, '<HI>');
    other.trySend('back');
    assert.equal(mb.tryReceive()?.data, '<BACK>');
  });
  await withMailbox<string>({ codec: 'utf8' }, (_mb, name) => {
    assert.throws(() => Mailbox.open(name, { codec: 'json' }), code('EINVAL'), 'not the codec it was created with');
    assert.throws(() => Mailbox.open(name, { codec: upper }), code('EINVAL'));
    using same = Mailbox.open<string>(name, { codec: 'utf8' });
    assert.equal(same.trySend('ok'), true);
  });
  const broken = { encode: () => 'not bytes', decode: (bytes: Uint8Array) => bytes } as unknown as Codec<unknown>;
  await withMailbox<unknown>({ codec: broken }, (mb) => {
    assert.throws(() => mb.trySend('x'), TypeError);
    assert.equal(mb.stats().messages, 0);
  });
});

// ---- selectors ---------------------------------------------------------------------------------

test('selectors: first, type, notType, maxType (lowest type first, first among equals), from', T, async () => {
  await withMailbox<string>({ codec: 'utf8' }, async (mb) => {
    const sends: Array<[string, number]> = [
      ['t3-a', 3],
      ['t1-a', 1],
      ['t2-a', 2],
      ['t1-b', 1],
      ['t0-a', 0],
      ['t5-a', 5],
      ['t0-b', 0],
    ];
    for (const [data, type] of sends) mb.trySend(data, { type });
    assert.equal(mb.tryReceive({ type: 1 })?.data, 't1-a');
    assert.equal(mb.tryReceive({ type: 4 }), null);
    assert.equal(mb.tryReceive({ notType: 3 })?.data, 't2-a');
    assert.equal(mb.tryReceive({ maxType: 4 })?.data, 't0-a', 'lowest type <= 4, first of the type-0 ones');
    assert.equal(mb.tryReceive({ maxType: 4 })?.data, 't0-b');
    assert.equal(mb.tryReceive({ maxType: 4 })?.data, 't1-b');
    assert.equal(mb.tryReceive({ maxType: 2 }), null, 'only types 3 and 5 are left');
    assert.equal(mb.tryReceive({ from: process.pid === 1 ? 2 : 1 }), null, 'nothing from that pid');
    assert.equal(mb.tryReceive({ from: process.pid, type: 5 })?.data, 't5-a');
    assert.equal((await mb.receive({ from: process.pid }))?.data, 't3-a');
    assert.equal(mb.tryReceive(), null);

    // The type-0 default; a blocked selective receive leaves other messages where they are.
    mb.trySend('plain');
    const waiting = mb.receive({ type: 7 });
    await waitingReceivers(mb, 1);
    mb.trySend('seven', { type: 7 });
    assert.equal((await waiting).data, 'seven');
    const left = mb.tryReceive();
    assert.deepEqual([left?.data, left?.type], ['plain', 0]);
  });
});

test('selectors: two type criteria are EINVAL; bad arguments are TypeError/RangeError; nothing changes', T, async () => {
  await withMailbox<string>({ codec: 'utf8' }, async (mb) => {
    mb.trySend('stays', { type: 1 });
    for (const selector of [{ type: 1, notType: 2 }, { type: 1, maxType: 2 }, { notType: 1, maxType: 2 }]) {
      assert.throws(() => mb.tryReceive(selector), code('EINVAL'));
      assert.throws(() => mb.receiveSync(selector), code('EINVAL'));
      await assert.rejects(mb.receive(selector), code('EINVAL'));
    }
    for (const selector of [{ type: -1 }, { type: 1.5 }, { maxType: 2 ** 31 }, { notType: NaN }, { from: 0 }, { from: -5 }]) {
      assert.throws(() => mb.tryReceive(selector), rangeError, JSON.stringify(selector));
    }
    for (const selector of [{ type: '1' }, { from: '1' }, { maxType: null }]) {
      assert.throws(() => mb.tryReceive(selector as never), typeError, JSON.stringify(selector));
    }
    for (const options of [null, 'type', 5, [1]]) {
      assert.throws(() => mb.tryReceive(options as never), typeError);
      await assert.rejects(mb.receive(options as never), typeError);
      await assert.rejects(mb.send('x', options as never), typeError);
      assert.throws(() => mb.trySend('x', options as never), typeError);
    }
    await assert.rejects(mb.receive({ timeout: -1 }), rangeError);
    await assert.rejects(mb.receive({ timeout: '5' as never }), typeError);
    await assert.rejects(mb.receive({ signal: {} as never }), typeError);
    await assert.rejects(mb.send('x', { type: -1 }), rangeError);
    await assert.rejects(mb.send('x', { sync: 'yes' as never }), typeError);
    await assert.rejects(mb.send('x', { timeout: NaN }), rangeError);
    assert.throws(() => mb.trySend('x', { type: 2 ** 31 }), rangeError);
    assert.throws(() => mb.sendSync('x', { type: 0.5 }), rangeError);
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [1, 1, 0]);
    assert.equal(mb.tryReceive()?.data, 'stays');
  });
  for (const [options, check] of [
    [{ capacity: -1 }, rangeError],
    [{ capacity: 1.5 }, rangeError],
    [{ capacity: '4' }, typeError],
    [{ maxBytes: 0 }, rangeError],
    [{ maxMessageSize: 0 }, rangeError],
    [{ messageSize: 0 }, rangeError],
    [{ messageSize: 8, maxMessageSize: 16 }, code('EINVAL')],
    [{ whenFull: 'sometimes' }, typeError],
    [{ codec: 'xml' }, typeError],
    [{ codec: { encode: () => new Uint8Array() } }, typeError],
    [{ mode: 0o1000 }, rangeError],
    ['options', typeError],
  ] as const) {
    assert.throws(() => Mailbox.create('never-made', options as never), check as (error: unknown) => boolean, JSON.stringify(options));
  }
  assert.throws(() => Mailbox.open('never-made'), code('ENOENT'), 'a rejected create leaves no file');
});

// ---- waiting: timeouts, abort, close, iteration -------------------------------------------------

test('receive times out with ETIMEDOUT and leaves non-matching messages alone', T, async () => {
  await withMailbox<string>({ codec: 'utf8' }, async (mb) => {
    await assert.rejects(mb.receive({ timeout: 20 }), code('ETIMEDOUT'));
    assert.throws(() => mb.receiveSync({ timeout: 5 }), code('ETIMEDOUT'));
    await assert.rejects(mb.receive({ timeout: 0 }), code('ETIMEDOUT'));
    mb.trySend('other type', { type: 1 });
    await assert.rejects(mb.receive({ type: 2, timeout: 20 }), code('ETIMEDOUT'));
    assert.equal(mb.stats().waitingReceivers, 0);
    assert.equal(mb.tryReceive()?.data, 'other type');
  });
});

test('an AbortSignal ends a receive with ABORT_ERR and takes nothing', T, async () => {
  await withMailbox<string>({ codec: 'utf8' }, async (mb) => {
    const abort = new AbortController();
    const pending = mb.receive({ signal: abort.signal });
    await waitingReceivers(mb, 1);
    const reason = new Error('changed my mind');
    abort.abort(reason);
    await assert.rejects(pending, (error: Error & { code?: string }) => {
      assert.equal(error.name, 'AbortError');
      assert.equal(error.code, 'ABORT_ERR');
      assert.equal(error.cause, reason);
      return true;
    });
    assert.equal(mb.stats().waitingReceivers, 0);
    await assert.rejects(mb.receive({ signal: AbortSignal.abort() }), code('ABORT_ERR'));
    await assert.rejects(mb.send('never', { signal: AbortSignal.abort() }), code('ABORT_ERR'));
    assert.equal(mb.stats().messages, 0, 'an already aborted send sends nothing');
    mb.trySend('after');
    assert.equal((await mb.receive({ signal: new AbortController().signal })).data, 'after');
  });
});

test('close() rejects pending receives of that handle with EBADF, and every later call', T, async () => {
  await withMailbox<string>({ codec: 'utf8' }, async (mb, name) => {
    const handle = Mailbox.open<string>(name);
    const other = Mailbox.open<string>(name);
    try {
      const pending = handle.receive();
      const unaffected = other.receive();
      await waitingReceivers(mb, 2);
      handle.close();
      await assert.rejects(pending, code('EBADF'));
      assert.equal(handle.closed, true);
      handle.close(); // idempotent
      await assert.rejects(handle.receive(), code('EBADF'));
      await assert.rejects(handle.send('x'), code('EBADF'));
      assert.throws(() => handle.trySend('x'), code('EBADF'));
      assert.throws(() => handle.sendSync('x'), code('EBADF'));
      assert.throws(() => handle.tryReceive(), code('EBADF'));
      assert.throws(() => handle.receiveSync({ timeout: 0 }), code('EBADF'));
      assert.throws(() => handle.stats(), code('EBADF'));
      // Other handles, even in this process, go on.
      await until('only the other receiver waits', () => mb.stats().waitingReceivers === 1);
      mb.trySend('for the other');
      assert.equal((await unaffected).data, 'for the other');
    } finally {
      handle.close();
      other.close();
    }
  });
});

test('async iteration yields messages in order and ends when the handle is closed', T, async () => {
  await withMailbox<string>({ codec: 'utf8' }, async (mb, name) => {
    const reader = Mailbox.open<string>(name);
    const got: string[] = [];
    const loop = (async () => {
      for await (const message of reader) got.push(message.data);
      return 'ended';
    })();
    for (const word of ['one', 'two', 'three']) await mb.send(word);
    await until('all three were read and the loop waits for more', () => got.length === 3 && mb.stats().waitingReceivers === 1);
    reader.close();
    assert.equal(await loop, 'ended');
    assert.deepEqual(got, ['one', 'two', 'three']);
  });
});

test('unlink while this process waits: EIDRM for the waiters and for later calls', T, async () => {
  await withMailbox<string>({ capacity: 1, codec: 'utf8' }, async (mb, name) => {
    using other = Mailbox.open<string>(name);
    const receiver = mb.receive({ type: 9 });
    await mb.send('fills it');
    const sender = other.send('blocked');
    await waitingReceivers(mb, 1);
    await waitingSenders(mb, 1);
    Mailbox.unlink(name);
    await assert.rejects(receiver, code('EIDRM'));
    await assert.rejects(sender, code('EIDRM'));
    await assert.rejects(mb.send('x'), code('EIDRM'));
    assert.throws(() => mb.trySend('x'), code('EIDRM'));
    assert.throws(() => mb.tryReceive(), code('EIDRM'));
    await assert.rejects(mb.receive(), code('EIDRM'));
    assert.throws(() => Mailbox.open(name), code('ENOENT'));
  });
});

// ---- stats, messages, names --------------------------------------------------------------------

test('stats() and message metadata', T, async () => {
  await withMailbox<string>({ capacity: 5, maxBytes: 1000, maxMessageSize: 100, whenFull: 'fail', codec: 'utf8' }, async (mb) => {
    const before = Date.now();
    mb.trySend('abc', { type: 3 });
    await mb.send('defgh');
    let stats = mb.stats();
    assert.equal(mb.capacity, 5);
    assert.deepEqual(
      { ...stats, lastSendTime: 0 },
      {
        messages: 2,
        bytes: 8,
        waitingSenders: 0,
        waitingReceivers: 0,
        totalSent: 2,
        totalReceived: 0,
        lastSendPid: process.pid,
        lastReceivePid: 0,
        lastSendTime: 0,
        lastReceiveTime: 0,
        repairs: 0,
        capacity: 5,
        maxBytes: 1000,
        maxMessageSize: 100,
        messageSize: 0,
        whenFull: 'fail',
      },
    );
    assert.ok(stats.lastSendTime >= before && stats.lastSendTime <= Date.now());
    const first = mb.tryReceive()!;
    const second = mb.tryReceive()!;
    assert.deepEqual(first.from, { pid: process.pid, threadId: 0 });
    assert.equal(first.type, 3);
    assert.equal(second.type, 0);
    assert.equal(second.seq, first.seq + 1);
    assert.ok(first.sentAt >= before && first.sentAt <= second.sentAt);
    stats = mb.stats();
    assert.deepEqual([stats.messages, stats.bytes, stats.totalReceived, stats.lastReceivePid], [0, 0, 2, process.pid]);
  });
  await withMailbox<string>({ capacity: 0 }, (mb) => {
    assert.equal(mb.capacity, 0);
    assert.equal(mb.stats().capacity, 0);
    assert.equal(mb.stats().whenFull, 'block');
  });
});

test('names: ENOENT, EEXIST, EINVAL; a SharedMemory of the same name is not a mailbox', T, async () => {
  assert.throws(() => Mailbox.open('missing'), code('ENOENT'));
  assert.throws(() => Mailbox.unlink('missing'), code('ENOENT'));
  await withMailbox<string>({ codec: 'utf8' }, (mb, name) => {
    mb.trySend('first creator');
    assert.throws(() => Mailbox.create(name), code('EEXIST'));
    assert.deepEqual(drain(mb), ['first creator'], 'a failed create leaves the existing mailbox alone');
  });
  for (const name of ['', '.hidden', 'a/b', 'sp ace', 'x'.repeat(201), 'ünï']) {
    assert.throws(() => Mailbox.create(name), code('EINVAL'), JSON.stringify(name));
    assert.throws(() => Mailbox.open(name), code('EINVAL'), JSON.stringify(name));
  }
  assert.throws(() => Mailbox.create(42 as never), typeError);
  const segment = SharedMemory.create('shared-name', 64);
  try {
    assert.throws(() => Mailbox.open('shared-name'), code('ENOENT'));
    assert.throws(() => Mailbox.unlink('shared-name'), code('ENOENT'));
    const mb = Mailbox.create('shared-name');
    mb.unlink();
    mb.close();
  } finally {
    segment.unlink();
    segment.close();
  }
});

test("a handle's unlink() removes only its own mailbox: a newer one under the name stays, with its messages (ENOENT)", T, () => {
  const stale = Mailbox.create<string>('incarnations', { codec: 'utf8' });
  const closed = Mailbox.open<string>('incarnations');
  closed.close();
  Mailbox.unlink('incarnations');
  const fresh = Mailbox.create<string>('incarnations', { codec: 'utf8' });
  try {
    fresh.trySend('precious');
    assert.throws(() => stale.unlink(), (error: unknown) => code('ENOENT')(error) && /removed already/.test(String(error)));
    assert.throws(() => closed.unlink(), code('ENOENT'));
    assert.equal(fresh.stats().messages, 1);
    assert.equal(Mailbox.open<string>('incarnations').tryReceive()?.data, 'precious');
    // A closed handle whose own mailbox still holds the name removes it.
    const mine = Mailbox.open<string>('incarnations');
    mine.close();
    mine.unlink();
    assert.throws(() => Mailbox.open('incarnations'), code('ENOENT'));
    assert.throws(() => fresh.stats(), code('EIDRM'));
    // Nothing under the name at all: ENOENT as well.
    assert.throws(() => stale.unlink(), code('ENOENT'));
  } finally {
    stale.close();
    fresh.close();
    try {
      Mailbox.unlink('incarnations');
    } catch {
      // Removed by the test already.
    }
  }
});
