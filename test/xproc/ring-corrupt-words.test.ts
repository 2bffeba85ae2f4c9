// One bad word in a mailbox's ring — a slot's sequence word, ENQUEUE, DEQUEUE, a slot's
// length — makes every call that meets it end at once with ECORRUPT, never spin: in RING
// mode (lock-free loops) and in a switch to the list (the drain, under the store's lock,
// which must be released so that the next call fails as promptly). Any process allowed to
// write the file can write such a word.
//
// The calls run in a helper process with a hard timeout (test/helpers/ring-corrupt-call.ts),
// so that a call that spins fails the test instead of stalling it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { Mailbox } from '../../src/index.ts';
import { openRingView, slotWord, storeListModeOnly, type RingView } from '../helpers/ring-white-box.ts';
import { startHelper } from '../support/helper-process.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('ring-corrupt-words');

const T = { timeout: 60_000 };
const CALLS = ['tryReceive', 'trySend', 'receive', 'stats'] as const;
/** Far longer than a call that fails at once takes on a busy machine, far shorter than a spin. */
const PROMPT_MS = 2000;
/** Hard limit of the helper: a call that spins is killed and fails the test. */
const HELPER_MS = 20_000;

type Call = (typeof CALLS)[number];
type Outcome = 'ECORRUPT' | 'ok';

/** Runs the calls in a helper process; returns how each ended. */
async function calls(name: string, which: readonly Call[] = CALLS): Promise<Map<string, string>> {
  const helper = startHelper('ring-corrupt-call.ts', [name, ...which], { timeoutMs: HELPER_MS });
  const outcomes = new Map<string, string>();
  for (const _ of which) {
    const [call, outcome, ms] = (await helper.nextLine()).split(' ');
    assert.ok(Number(ms) < PROMPT_MS, `${call} took ${ms} ms`);
    outcomes.set(call!, outcome!);
  }
  const exit = await helper.exited;
  assert.equal(exit.code, 0, exit.stderr);
  return outcomes;
}

/** A mailbox whose ring has passed `laps` messages (so the positions are not 0) and holds `queued`. */
async function withRing(queued: number, body: (mb: Mailbox<Uint8Array>, view: RingView, name: string) => Promise<void>): Promise<void> {
  await withMailbox<Uint8Array>('corrupt', { capacity: 4, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
    const view = openRingView(name);
    assert.equal(view.slots, 4);
    for (let n = 0; n < 5; n++) {
      assert.equal(mb.trySend(new Uint8Array([n])), true);
      assert.ok(mb.tryReceive() !== null);
    }
    for (let n = 0; n < queued; n++) assert.equal(mb.trySend(new Uint8Array([n])), true);
    await body(mb, view, name);
  });
}

function enqueue(view: RingView): number {
  return Atomics.load(view.i32, L.C_RING_ENQUEUE);
}

function dequeue(view: RingView): number {
  return Atomics.load(view.i32, L.C_RING_DEQUEUE);
}

const BAD_WORDS: Array<{ what: string; queued: number; corrupt(view: RingView): void; expected?: Partial<Record<Call, Outcome>> }> = [
  {
    what: 'the head slot’s sequence word holds a value no slot holds there (empty ring: also the tail slot)',
    queued: 0,
    corrupt: (view) => Atomics.store(view.i32, slotWord(view, dequeue(view)) + L.RING_SLOT_SEQUENCE, (dequeue(view) + 2) | 0),
  },
  {
    what: 'the head slot’s sequence word is far off',
    queued: 0,
    corrupt: (view) => Atomics.store(view.i32, slotWord(view, dequeue(view)) + L.RING_SLOT_SEQUENCE, 0x40000000),
  },
  {
    what: 'ENQUEUE is behind DEQUEUE',
    queued: 0,
    corrupt: (view) => Atomics.store(view.i32, L.C_RING_ENQUEUE, (dequeue(view) - 3) | 0),
  },
  {
    what: 'ENQUEUE is more than the slots ahead of DEQUEUE (an empty ring: a receive meets it too)',
    queued: 0,
    corrupt: (view) => Atomics.store(view.i32, L.C_RING_ENQUEUE, (dequeue(view) + 100) | 0),
  },
  {
    what: 'DEQUEUE is ahead of ENQUEUE',
    queued: 0,
    corrupt: (view) => Atomics.store(view.i32, L.C_RING_DEQUEUE, (enqueue(view) + 2) | 0),
  },
  {
    what: 'DEQUEUE is more than the slots behind ENQUEUE',
    queued: 2,
    corrupt: (view) => Atomics.store(view.i32, L.C_RING_DEQUEUE, (enqueue(view) - 1000) | 0),
  },
  {
    what: 'the head message’s length is beyond the slot',
    queued: 2,
    corrupt: (view) => Atomics.store(view.i32, slotWord(view, dequeue(view)) + L.RING_SLOT_LENGTH, 1000),
    // A send does not read the head slot: it answers. stats() sums the published slots'
    // lengths (src/channel/ring-bytes.ts), so it meets the bad one as the receives do.
    expected: { trySend: 'ok' },
  },
];

for (const { what, queued, corrupt, expected } of BAD_WORDS) {
  test(`RING mode, ${what}: ${CALLS.join(', ')} end at once${expected === undefined ? ' with ECORRUPT' : ''}`, T, async () => {
    await withRing(queued, async (_mb, view, name) => {
      const before = { enqueue: enqueue(view), dequeue: dequeue(view) };
      corrupt(view);
      const outcomes = await calls(name);
      for (const call of CALLS) assert.equal(outcomes.get(call), expected?.[call] ?? 'ECORRUPT', `${call}`);
      if (expected !== undefined) {
        // Nothing was consumed by the receives that refused the message.
        assert.equal(dequeue(view), before.dequeue);
        assert.equal((enqueue(view) - dequeue(view)) | 0, queued + 1);
      }
    });
  });

  test(`in a switch to the list (under the store's lock), ${what}: every call ends at once, twice over (the lock was released)`, T, async () => {
    await withRing(queued, async (_mb, view, name) => {
      // A switch cut short: the next holder of the lock drains the ring into the list.
      storeListModeOnly(view);
      corrupt(view);
      for (let round = 0; round < 2; round++) {
        const outcomes = await calls(name);
        for (const call of CALLS) {
          // The bad length meets every call in the drain, whichever call takes the lock.
          assert.equal(outcomes.get(call), 'ECORRUPT', `round ${round}: ${call}`);
        }
      }
    });
  });
}

// A skip (sequence position + slots) or a fence (position − 2) is left at the head only by a
// recovery that died after giving up or fencing a claimed position, before it moved DEQUEUE
// on: receivers pass it. At the head of an empty ring (DEQUEUE = ENQUEUE) nothing was claimed,
// so either is damage — passing it there moved DEQUEUE beyond ENQUEUE, and the receives after
// the first then answered "empty".
for (const [what, offset] of [['a skip', 4], ['a fence', -2]] as const) for (const receive of ['tryReceive', 'tryReceiveMany'] as const) {
  test(`RING mode, ${what} at the head of an empty ring: stats and ${receive} end with ECORRUPT, twice over, the positions untouched`, T, async () => {
    await withRing(0, async (_mb, view, name) => {
      const before = { enqueue: enqueue(view), dequeue: dequeue(view) };
      Atomics.store(view.i32, slotWord(view, before.dequeue) + L.RING_SLOT_SEQUENCE, (before.dequeue + offset) | 0);
      for (let round = 0; round < 2; round++) {
        const outcomes = await calls(name, ['stats', receive] as unknown as readonly Call[]);
        assert.equal(outcomes.get('stats'), 'ECORRUPT', `round ${round}: stats`);
        assert.equal(outcomes.get(receive), 'ECORRUPT', `round ${round}: ${receive}`);
        assert.deepEqual({ enqueue: enqueue(view), dequeue: dequeue(view) }, before, `round ${round}`);
      }
    });
  });
}
