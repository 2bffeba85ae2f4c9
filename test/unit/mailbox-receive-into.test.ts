// Receiving into the caller's buffer (`into`): the payload lands in the given Uint8Array,
// in RING mode (plain receives) and in LIST mode (selective receives, chains of cells);
// a buffer too short leaves the message queued (E2BIG) in every form of receive; other
// codecs decode from the buffer; a wrong `into` is a TypeError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox, type MailboxOptions } from '../../src/index.ts';
import { mode, openRingView } from '../helpers/ring-white-box.ts';
import { ipcError, typeError } from '../support/errors.ts';
import { withMailbox as withFreshMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-into');

const T = { timeout: 20_000 };

function withMailbox<V>(options: MailboxOptions<V>, body: (mb: Mailbox<V>, name: string) => Promise<void> | void): Promise<void> {
  return withFreshMailbox('into', options, body);
}

function pattern(seed: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (seed * 31 + i * 7 + 3) & 0xff;
  return bytes;
}

/**
 * The mailbox's mode once `receive` has run: plain receives keep RING mode, and so would a
 * receive by type 5 (every message is of type 5); maxType must look past the ring's head
 * (a lower type might follow), which moves the store to the list.
 */
const MODES = [
  { name: 'ring (plain receives)', selector: {}, expectedMode: 'ring' },
  { name: 'list (selective receives)', selector: { maxType: 5 }, expectedMode: 'list' },
] as const;

for (const { name: modeName, selector, expectedMode } of MODES) {
  test(`${modeName}: tryReceive, receiveSync and receive copy into the given buffer`, T, async () => {
    // 3000-byte messages span several cells of the list.
    await withMailbox<Uint8Array>({ codec: 'bytes', capacity: 8, maxMessageSize: 4096 }, async (mb, name) => {
      const into = new Uint8Array(4096).fill(0xee);
      for (let n = 0; n < 3; n++) assert.ok(mb.trySend(pattern(n, 1000 + n * 1000), { type: 5 }));
      // Each checked before the next receive: a receive into the same buffer reuses the Message.
      const receives = [
        () => mb.tryReceive({ ...selector, into }),
        () => mb.receiveSync({ ...selector, into }),
        () => mb.receive({ ...selector, into }),
      ];
      for (const [n, receive] of receives.entries()) {
        const message = await receive();
        assert.ok(message !== null);
        const size = 1000 + n * 1000;
        assert.equal(message.data.buffer, into.buffer, 'data is a view of the buffer given');
        assert.equal(message.data.byteOffset, 0);
        assert.equal(message.data.length, size);
        assert.equal(message.type, 5);
      }
      // Each receive overwrote the buffer's start: the last message is what it holds now.
      assert.deepEqual(into.subarray(0, 3000), pattern(2, 3000));
      assert.equal(into[3000], 0xee, 'bytes past the message are left alone');
      assert.equal(mode(openRingView(name)), expectedMode);
    });
  });

  test(`${modeName}: a buffer too short leaves the message queued (E2BIG)`, T, async () => {
    await withMailbox<Uint8Array>({ codec: 'bytes', capacity: 4, maxMessageSize: 2048 }, async (mb) => {
      assert.ok(mb.trySend(pattern(1, 2000), { type: 5 }));
      assert.ok(mb.trySend(pattern(2, 10), { type: 5 }));
      const short = new Uint8Array(1999);
      assert.throws(() => mb.tryReceive({ ...selector, into: short }), ipcError('E2BIG'));
      assert.throws(() => mb.receiveSync({ ...selector, into: short }), ipcError('E2BIG'));
      await assert.rejects(mb.receive({ ...selector, into: short }), ipcError('E2BIG'));
      assert.equal(mb.stats().messages, 2, 'nothing was taken');
      const first = mb.tryReceive({ ...selector, into: new Uint8Array(2000) });
      assert.deepEqual(first?.data, pattern(1, 2000), 'the refused message comes first, intact');
      assert.deepEqual(mb.tryReceive(selector)?.data, pattern(2, 10));
    });
  });
}

test('a receive waiting for a message copies it into the buffer when it comes', T, async () => {
  await withMailbox<Uint8Array>({ codec: 'bytes', capacity: 2, maxMessageSize: 256 }, async (mb) => {
    const into = new Uint8Array(256);
    const pending = mb.receive({ into });
    assert.ok(mb.trySend(pattern(9, 200)));
    const message = await pending;
    assert.equal(message.data.buffer, into.buffer);
    assert.deepEqual(message.data, pattern(9, 200));
  });
});

test('a zero-capacity hand-over copies into the buffer', T, async () => {
  await withMailbox<Uint8Array>({ codec: 'bytes', capacity: 0, maxMessageSize: 64 }, async (mb) => {
    const into = new Uint8Array(64);
    const pending = mb.receive({ into });
    await mb.send(pattern(4, 64));
    assert.deepEqual((await pending).data, pattern(4, 64));
    assert.equal((await pending).data.buffer, into.buffer);
  });
});

test('a tryReceive into a buffer reuses the Message of the last receive into it, refilled: nothing allocated', T, async () => {
  await withMailbox<Uint8Array>({ codec: 'bytes', capacity: 4, maxMessageSize: 64 }, async (mb) => {
    const into = new Uint8Array(64);
    const other = new Uint8Array(64);
    assert.ok(mb.trySend(pattern(1, 64), { type: 3 }));
    assert.ok(mb.trySend(pattern(2, 64), { type: 4 }));
    assert.ok(mb.trySend(pattern(3, 10), { type: 5 }));
    const first = mb.tryReceive({ into });
    assert.ok(first !== null);
    assert.equal(first.data, into, 'a message that fills the buffer is the buffer itself');
    assert.deepEqual([first.type, first.seq, first.from.pid], [3, 0, process.pid]);
    const sentAt = first.sentAt;
    assert.ok(sentAt > 0 && sentAt <= Date.now());

    const second = mb.tryReceive({ into });
    assert.equal(second, first, 'the same object, refilled');
    assert.equal(second.data, into);
    assert.deepEqual(into, pattern(2, 64));
    assert.deepEqual([second.type, second.seq, second.from.pid], [4, 1, process.pid]);

    // Another buffer: another Message; the first buffer's stays as it was.
    const third = mb.tryReceive({ into: other });
    assert.ok(third !== null && third !== first);
    assert.deepEqual([third.type, third.seq, third.data], [5, 2, pattern(3, 10)]);
    assert.equal(third.data.buffer, other.buffer);
    assert.deepEqual([first.type, first.seq], [4, 1]);

    // Without into: a Message and bytes of its own each time.
    assert.ok(mb.trySend(pattern(4, 8)));
    assert.ok(mb.trySend(pattern(5, 8)));
    const own = mb.tryReceive();
    const next = mb.tryReceive();
    assert.ok(own !== null && next !== null && own !== next);
    assert.deepEqual([own.data, next.data], [pattern(4, 8), pattern(5, 8)]);
  });
});

test('other codecs decode from the buffer', T, async () => {
  await withMailbox<{ n: number; text: string }>({ codec: 'json', capacity: 4 }, async (mb) => {
    const into = new Uint8Array(1024);
    assert.ok(mb.trySend({ n: 1, text: 'first' }));
    assert.ok(mb.trySend({ n: 2, text: 'second, longer than the first' }));
    assert.deepEqual(mb.tryReceive({ into })?.data, { n: 1, text: 'first' });
    assert.deepEqual((await mb.receive({ into })).data, { n: 2, text: 'second, longer than the first' });
  });
  await withMailbox<Map<string, number>>({ capacity: 4 }, async (mb) => {
    assert.ok(mb.trySend(new Map([['a', 1]])));
    assert.deepEqual(mb.receiveSync({ into: new Uint8Array(256) }).data, new Map([['a', 1]]));
  });
});

test('into must be a Uint8Array', T, async () => {
  await withMailbox<Uint8Array>({ codec: 'bytes', capacity: 4 }, async (mb) => {
    assert.ok(mb.trySend(pattern(1, 8)));
    for (const into of [new ArrayBuffer(8), new Int32Array(2), [0, 1], 'bytes', null]) {
      assert.throws(() => mb.tryReceive({ into: into as unknown as Uint8Array }), typeError);
      assert.throws(() => mb.receiveSync({ into: into as unknown as Uint8Array }), typeError);
      await assert.rejects(mb.receive({ into: into as unknown as Uint8Array }), typeError);
    }
    assert.equal(mb.stats().messages, 1, 'nothing was taken');
    // A Buffer is a Uint8Array.
    assert.deepEqual(mb.tryReceive({ into: Buffer.alloc(8) })?.data, Buffer.from(pattern(1, 8)));
  });
});
