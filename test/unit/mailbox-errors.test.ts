// What a Mailbox's failures say: the option a RangeError names, null options, codec
// failures (encode: TypeError with the codec's error as cause; decode: EBADMSG carrying the
// message taken), error texts that name the mailbox, stats() after unlink (EIDRM), a
// damaged free count (ECORRUPT), and many pending receives on one handle (no
// MaxListenersExceededWarning).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { IpcError, Mailbox, type Codec, type MailboxOptions } from '../../src/index.ts';
import { openRingView } from '../helpers/ring-white-box.ts';
import { waitingReceivers } from '../helpers/mailbox-client.ts';
import { ipcError, typeError } from '../support/errors.ts';
import { withMailbox as withFreshMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-errors');

const T = { timeout: 20_000 };

function withMailbox<V>(options: MailboxOptions<V>, body: (mb: Mailbox<V>, name: string) => Promise<void> | void): Promise<void> {
  return withFreshMailbox('err', options, body);
}

/** The error `body` throws (or its promise rejects with); fails if it succeeds. */
async function caught(body: () => unknown): Promise<Error & { code?: unknown; cause?: unknown }> {
  try {
    await body();
  } catch (error) {
    assert.ok(error instanceof Error, `not an Error: ${String(error)}`);
    return error;
  }
  assert.fail('expected an error');
}

// ---- options ---------------------------------------------------------------------------

test('a capacity too large for one store is a RangeError about capacity, not about maxBytes that was never given', T, async () => {
  const error = await caught(() => Mailbox.create('too-big', { capacity: 2 ** 24 }));
  assert.ok(error instanceof RangeError);
  assert.equal(error.code, 'ERR_OUT_OF_RANGE');
  assert.match(error.message, /^The value of "capacity" is out of range\./);
  assert.doesNotMatch(error.message, /"maxBytes"/);
  assert.match(error.message, /Received 16777216$/);
  // The capacity the error names as fitting does fit.
  const fits = Number(/, (\d+) fits\)/.exec(error.message)?.[1]);
  assert.ok(fits > 1024 && fits < 2 ** 24, error.message);
  await withMailbox({ capacity: fits }, (mb) => assert.equal(mb.capacity, fits));
  assert.throws(() => Mailbox.open('too-big'), ipcError('ENOENT'), 'the rejected create left nothing');
});

test('null is not a left-out option: codec, mode and every other option reject it with ERR_INVALID_ARG_TYPE', T, async () => {
  for (const option of ['codec', 'mode', 'capacity', 'maxBytes', 'maxMessageSize', 'messageSize', 'whenFull']) {
    assert.throws(() => Mailbox.create('never-made', { [option]: null } as never), typeError, option);
  }
  assert.throws(() => Mailbox.open('never-made'), ipcError('ENOENT'), 'nothing was created');
  await withMailbox<string>({ codec: 'utf8' }, (mb, name) => {
    mb.trySend('stays', { type: 1 });
    assert.throws(() => Mailbox.open(name, { codec: null as never }), typeError);
    // Not a codec at all is a TypeError; a codec other than the creator's is EINVAL.
    assert.throws(() => Mailbox.open(name, { codec: 'xml' as never }), typeError);
    assert.throws(() => Mailbox.open(name, { codec: {} as never }), typeError);
    assert.throws(() => Mailbox.open(name, { codec: 'json' }), ipcError('EINVAL'));
    // A null criterion next to a real one is a wrong type, not a second criterion.
    for (const selector of [{ type: 1, notType: null }, { maxType: null, type: 1 }, { type: 1, from: null }]) {
      assert.throws(() => mb.tryReceive(selector as never), typeError, JSON.stringify(selector));
    }
    assert.equal(mb.tryReceive()?.data, 'stays');
  });
});

// ---- codecs ------------------------------------------------------------------------------

test('a value the codec cannot encode is a TypeError ERR_INVALID_ARG_TYPE whose cause is the codec\'s error; nothing is sent', T, async () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const refusal = new Error('odd numbers only');
  const picky: Codec<number> = {
    encode(value) {
      if (value % 2 === 0) throw refusal;
      return Uint8Array.of(value);
    },
    decode: (bytes) => bytes[0]!,
  };
  const cases: Array<{ options: MailboxOptions<never>; value: unknown; cause?: unknown }> = [
    { options: {}, value: () => 1 },
    { options: {}, value: Symbol('s') },
    { options: { codec: 'json' }, value: cycle },
    { options: { codec: 'json' }, value: 10n },
    { options: { codec: 'json' }, value: undefined },
    { options: { codec: 'utf8' }, value: 42 },
    { options: { codec: 'bytes' }, value: [1, 2] },
    { options: { codec: picky as Codec<never> }, value: 2, cause: refusal },
  ];
  for (const { options, value, cause } of cases) {
    await withMailbox<unknown>(options, async (mb) => {
      const label = `${String(options.codec ?? 'structured')}: ${typeof value}`;
      for (const send of [() => mb.trySend(value), () => mb.sendSync(value), () => mb.send(value)]) {
        const error = await caught(send);
        assert.ok(error instanceof TypeError, label);
        assert.equal(error.code, 'ERR_INVALID_ARG_TYPE', label);
        assert.match(error.message, /"value" argument/, label);
        if (cause !== undefined) assert.equal(error.cause, cause, label);
      }
      assert.equal(mb.stats().messages, 0, label);
    });
  }
});

test('a codec whose encode() returns no Uint8Array is a TypeError ERR_INVALID_RETURN_VALUE', T, async () => {
  const broken = { encode: () => 'not bytes', decode: (bytes: Uint8Array) => bytes } as unknown as Codec<unknown>;
  await withMailbox<unknown>({ codec: broken }, async (mb) => {
    for (const send of [() => mb.trySend('x'), () => mb.sendSync('x'), () => mb.send('x')]) {
      const error = await caught(send);
      assert.ok(error instanceof TypeError);
      assert.equal(error.code, 'ERR_INVALID_RETURN_VALUE');
    }
    assert.equal(mb.stats().messages, 0);
  });
});

/** A codec that cannot decode payloads starting with 0xff. */
const fussy: Codec<Uint8Array> = {
  encode: (value) => value,
  decode(bytes) {
    if (bytes[0] === 0xff) throw new RangeError('0xff is no way to start');
    return bytes.slice();
  },
};

test('a message the codec cannot decode is EBADMSG, carrying the message taken (raw bytes, type, sender, seq); the next is unharmed', T, async () => {
  await withMailbox<Uint8Array>({ codec: fussy }, async (mb) => {
    const into = new Uint8Array(16);
    const receives = [
      () => mb.tryReceive(),
      () => mb.receiveSync({ timeout: 5000 }),
      () => mb.receive({ timeout: 5000 }),
      () => mb.tryReceive({ type: 3 }),
      () => mb.tryReceive({ into }),
    ];
    for (const [n, receive] of receives.entries()) {
      const bad = Uint8Array.of(0xff, n);
      const expectedSeq = mb.stats().totalSent;
      assert.ok(mb.trySend(bad, { type: 3 }));
      assert.ok(mb.trySend(Uint8Array.of(1, n), { type: 3 }));
      const error = await caught(receive);
      assert.ok(error instanceof IpcError, String(error));
      assert.equal(error.code, 'EBADMSG');
      assert.ok(error.cause instanceof RangeError);
      const received = error.received;
      assert.ok(received !== undefined);
      assert.deepEqual(received.data, bad);
      assert.equal(received.type, 3);
      assert.equal(received.from.pid, process.pid);
      assert.equal(received.seq, expectedSeq);
      assert.equal(typeof received.sentAt, 'number');
      // The copy does not view the caller's buffer, which the next receive reuses.
      assert.notEqual(received.data.buffer, into.buffer);
      assert.deepEqual(mb.tryReceive()?.data, Uint8Array.of(1, n), 'the next message is received as sent');
      assert.equal(mb.stats().messages, 0);
    }
  });
});

test('a json payload corrupted in shared memory is EBADMSG with its bytes, not a plain SyntaxError', T, async () => {
  await withMailbox<unknown>({ codec: 'json' }, async (mb, name) => {
    mb.trySend('MARKER-7f3a');
    mb.trySend({ after: true });
    const view = openRingView(name);
    const marker = new TextEncoder().encode('MARKER-7f3a');
    const at = Buffer.from(view.u8.buffer, view.u8.byteOffset, view.u8.byteLength).indexOf(marker);
    assert.ok(at > 0, 'the payload is in the body');
    view.u8[at - 1] = 0x7b; // the opening quote becomes '{'
    const error = await caught(() => mb.tryReceive());
    assert.ok(error instanceof IpcError);
    assert.equal(error.code, 'EBADMSG');
    assert.ok(error.cause instanceof SyntaxError);
    assert.equal(new TextDecoder().decode(error.received!.data), '{MARKER-7f3a"');
    assert.deepEqual(mb.tryReceive()?.data, { after: true });
  });
});

// ---- removal and damage -------------------------------------------------------------------

test('stats() after unlink is EIDRM, on the unlinking handle and on another', T, async () => {
  await withMailbox<string>({ codec: 'utf8' }, (mb, name) => {
    using other = Mailbox.open<string>(name);
    mb.trySend('queued');
    assert.equal(other.stats().messages, 1);
    Mailbox.unlink(name);
    assert.throws(() => mb.stats(), ipcError('EIDRM'));
    assert.throws(() => other.stats(), ipcError('EIDRM'));
    mb.close();
    assert.throws(() => mb.stats(), ipcError('EBADF'), 'a closed handle says so first');
  });
});

test('full, timed-out and closed-handle errors name the mailbox, in the ring and in the list', T, async () => {
  for (const typed of [false, true]) {
    // A typed receive moves the store from the ring to the list for good.
    await withMailbox<string>({ codec: 'utf8', capacity: 1, whenFull: 'fail' }, async (mb, name) => {
      if (typed) assert.equal(mb.tryReceive({ type: 3 }), null);
      const what = `mailbox "${name}"`;
      mb.trySend('fills it');
      const full = await caught(() => mb.send('no room'));
      assert.equal(full.code, 'EAGAIN');
      assert.equal(full.message, `EAGAIN: ${what} is full`);
      assert.equal((await caught(() => mb.receive({ type: 9, timeout: 1 }))).message, `ETIMEDOUT: timed out: no message arrived in ${what}`);
      mb.close();
      assert.equal((await caught(() => mb.receive())).message, `EBADF: ${what} handle is closed`);
    });
  }
  await withMailbox<string>({ codec: 'utf8', capacity: 1 }, async (mb, name) => {
    mb.trySend('fills it');
    const timedOut = await caught(() => mb.send('no room', { timeout: 1 }));
    assert.equal(timedOut.code, 'ETIMEDOUT');
    assert.equal(timedOut.message, `ETIMEDOUT: timed out: no room in mailbox "${name}"; nothing was sent`);
  });
});

test('a free-cell count damaged in shared memory is ECORRUPT on send, not ENOMEM', T, async () => {
  // Capacity 2 of small messages: the arena starts at its largest and cannot grow (ENOMEM
  // before); capacity 64: it can (it grew over the damage before).
  const cases = [
    { capacity: 2, maxMessageSize: 64, free: -5 },
    { capacity: 64, maxMessageSize: 64 * 1024, free: -5 },
    { capacity: 64, maxMessageSize: 64 * 1024, free: 0x7fffffff },
  ];
  for (const { capacity, maxMessageSize, free } of cases) {
    await withMailbox<string>({ codec: 'utf8', capacity, maxMessageSize }, (mb, name) => {
      // A sync send moves the store to the list (and, given up at once, withdraws its message).
      assert.throws(() => mb.sendSync('w', { sync: true, timeout: 0 }), ipcError('ETIMEDOUT'));
      const view = openRingView(name);
      Atomics.store(view.i32, L.C_FREE_COUNT, free);
      assert.throws(() => mb.trySend('x'), ipcError('ECORRUPT'), `free count ${free}`);
      assert.throws(() => mb.sendSync('x'), ipcError('ECORRUPT'), `free count ${free}`);
    });
  }
});

test('a ring slot count written into a mailbox that has no ring is ECORRUPT at open, not a RangeError', T, async () => {
  // Unbounded, zero capacity, and a byte budget below capacity × maxMessageSize: none of
  // these stores has a ring, so their slot size word is 0 and any slot count is damage.
  const configurations: Array<MailboxOptions<string>> = [
    { capacity: Infinity },
    { capacity: 0 },
    { capacity: 8, maxMessageSize: 64, maxBytes: 200 },
  ];
  for (const options of configurations) {
    for (const slots of [1, 2, 8]) {
      await withMailbox<string>({ codec: 'utf8', ...options }, (mb, name) => {
        if (options.capacity !== 0) assert.equal(mb.trySend('kept'), true);
        const view = openRingView(name);
        assert.equal(view.slots, 0, 'no ring');
        Atomics.store(view.i32, L.C_RING_SLOTS, slots);
        assert.throws(() => Mailbox.open(name), ipcError('ECORRUPT'), `capacity ${options.capacity}, ${slots} slots`);
        if (options.capacity !== 0) assert.equal(mb.tryReceive()?.data, 'kept', 'a handle opened before still works');
      });
    }
  }
});

// ---- many pending receives ----------------------------------------------------------------

test('1,000 pending receives on one handle print no MaxListenersExceededWarning, with or without a signal', T, async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on('warning', onWarning);
  try {
    await withMailbox<string>({ codec: 'utf8' }, async (mb) => {
      const controller = new AbortController();
      const pending = Array.from({ length: 1000 }, (_, n) =>
        mb.receive(n % 2 === 0 ? { spin: 0 } : { spin: 0, signal: controller.signal }),
      );
      await waitingReceivers(mb, 1000);
      mb.close();
      for (const receive of pending) await assert.rejects(receive, ipcError('EBADF'));
    });
    // Warnings are emitted on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.map((warning) => `${warning.name}: ${warning.message}`),
      [],
    );
  } finally {
    process.off('warning', onWarning);
  }
});

// ---- a byte budget and a message size that contradict each other -----------------------------

test('maxBytes given smaller than the message size given is EINVAL at create; left out, it holds one largest message', T, async () => {
  assert.throws(() => Mailbox.create('too-small', { maxMessageSize: 2048, maxBytes: 1024 }), ipcError('EINVAL'));
  assert.throws(() => Mailbox.create('too-small', { messageSize: 2048, maxBytes: 1024 }), ipcError('EINVAL'));
  // Only maxBytes given: a budget, and messages longer than it are EMSGSIZE when sent.
  await withMailbox<Uint8Array>({ maxBytes: 1024, codec: 'bytes' }, (mb) => {
    assert.throws(() => mb.trySend(new Uint8Array(2048)), ipcError('EMSGSIZE'));
  });
  // Only maxMessageSize given, larger than the default budget (1 MiB): the budget grows to hold it.
  await withMailbox<Uint8Array>({ maxMessageSize: 2 << 20, codec: 'bytes' }, (mb) => {
    const big = new Uint8Array(3 << 19).fill(7);
    assert.equal(mb.trySend(big), true);
    assert.deepEqual(mb.tryReceive()?.data, big);
    assert.equal(mb.stats().maxBytes, 2 << 20);
  });
});
