// A receive from the ring — a batch, or one message into a buffer — whose slot another
// process damages while the receive runs: a length changed after the receiver checked it,
// before the claim, is ECORRUPT when the slot is read again after the claim — never a copy
// beyond the slot (other slots' headers and payloads handed out as a message) or beyond the
// caller's buffer (a RangeError).
//
// The damage has to land between the receiver's look and its copy. A buffer whose `length`
// getter does the damage puts it there, deterministically: the receive reads the length of
// `into` while it counts the batch. Which of those reads comes after the first slot's check
// is the receive's own business, so every read in turn is the one that damages, and each
// outcome must be a clean one: ECORRUPT (E2BIG if the damage came before the look), or the
// batch as it was sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { IpcError, type Mailbox, type Message } from '../../src/index.ts';
import { ipcError } from '../support/errors.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';
import { mode, openRingView, slotWord, type RingView } from '../helpers/ring-white-box.ts';

useNamespace('ring-receive-damage');

const MAX_MESSAGE_SIZE = 64;
const SENT = [1, 2, 3];

/** A buffer that stores `length` into the first slot's length word at its `at`-th length read. */
function damagingBuffer(bytes: number, view: RingView, at: number, length: number): { into: Uint8Array; damaged: () => boolean } {
  let reads = 0;
  class Damaging extends Uint8Array {
    override get length(): number {
      if (++reads === at) view.i32[slotWord(view, 0) + L.RING_SLOT_LENGTH] = length;
      return super.length;
    }
  }
  return { into: new Damaging(bytes), damaged: () => reads >= at };
}

async function receiveWhileDamaged(bytes: number, at: number, length: number): Promise<{ messages: Message<Uint8Array>[] | null; error: unknown; damaged: boolean }> {
  let outcome: { messages: Message<Uint8Array>[] | null; error: unknown; damaged: boolean } | undefined;
  await withMailbox<Uint8Array>('damaged', { capacity: 8, maxMessageSize: MAX_MESSAGE_SIZE, codec: 'bytes' }, (mb: Mailbox<Uint8Array>, name) => {
    const view = openRingView(name);
    assert.equal(mb.trySendMany(SENT.map((n) => new Uint8Array(8).fill(n))), SENT.length);
    assert.equal(mode(view), 'ring');
    const { into, damaged } = damagingBuffer(bytes, view, at, length);
    try {
      outcome = { messages: mb.tryReceiveMany(SENT.length, { into }), error: null, damaged: damaged() };
    } catch (error) {
      outcome = { messages: null, error, damaged: damaged() };
    }
  });
  return outcome!;
}

function assertClean(outcome: { messages: Message<Uint8Array>[] | null; error: unknown; damaged: boolean }, what: string): void {
  if (outcome.messages === null) {
    assert.ok(outcome.error instanceof IpcError, `${what}: ${String(outcome.error)}`);
    // E2BIG: damaged before the look, the first message is simply longer than `into`.
    if (outcome.error.code !== 'E2BIG') ipcError('ECORRUPT')(outcome.error);
    return;
  }
  assert.deepEqual(
    outcome.messages.map((m) => [m.data.length, m.data[0]]),
    SENT.map((n) => [8, n]),
    `${what}: the batch as it was sent`,
  );
}

test('a length beyond the maximum, stored while the batch is counted: ECORRUPT, no copy beyond the slot', async () => {
  let damagedInTime = 0;
  for (let at = 1; at <= 8; at++) {
    const outcome = await receiveWhileDamaged(65536, at, 1000);
    if (outcome.damaged) damagedInTime++;
    assertClean(outcome, `damaged at read ${at}`);
  }
  assert.ok(damagedInTime > 0, 'the receive read the length of into');
});

test('a length within the maximum that no longer fits into: ECORRUPT, not a RangeError', async () => {
  let damagedInTime = 0;
  for (let at = 1; at <= 8; at++) {
    const outcome = await receiveWhileDamaged(3 * 8, at, MAX_MESSAGE_SIZE);
    if (outcome.damaged) damagedInTime++;
    assertClean(outcome, `damaged at read ${at}`);
  }
  assert.ok(damagedInTime > 0, 'the receive read the length of into');
});

test('one message into a buffer, its length grown past the buffer after the fit was checked: ECORRUPT, not a RangeError', async () => {
  let damagedInTime = 0;
  for (let at = 1; at <= 4; at++) {
    await withMailbox<Uint8Array>('single', { capacity: 8, maxMessageSize: MAX_MESSAGE_SIZE, codec: 'bytes' }, (mb, name) => {
      const view = openRingView(name);
      assert.equal(mb.trySend(new Uint8Array(8).fill(1)), true);
      const { into, damaged } = damagingBuffer(8, view, at, MAX_MESSAGE_SIZE);
      let received: Message<Uint8Array> | null = null;
      try {
        received = mb.tryReceive({ into });
      } catch (error) {
        assert.ok(error instanceof IpcError, `damaged at read ${at}: ${String(error)}`);
        if (error.code !== 'E2BIG') ipcError('ECORRUPT')(error);
      }
      if (received !== null) assert.deepEqual([received.data.length, received.data[0]], [8, 1], `damaged at read ${at}: the message as sent`);
      if (damaged()) damagedInTime++;
    });
  }
  assert.ok(damagedInTime > 0, 'the receive read the length of into');
});
