// A receiver that polls without ever blocking (tryReceive / tryReceiveMany), and slowly — a
// timer's tick, not a spin — behind a ring slot a dead sender claimed and never published:
// it gets past the slot once the slot has been stuck for LOOK_MS, within a few polls,
// however far apart they are (an empty poll looks at the head only every 64th time, unless
// the handle is following a stuck head already).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { claimWithoutPublishing, openRingView } from '../helpers/ring-white-box.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';
import { deadPid } from '../support/port-table.ts';

useNamespace('ring-slow-poller');

/** Far fewer than the 64 empty polls between two looks of a poller that follows nothing. */
const POLLS = 8;
/** Longer than LOOK_MS (10 ms): the time a stuck head must have been seen stuck before a look. */
const BETWEEN_POLLS_MS = 25;

for (const form of ['tryReceive', 'tryReceiveMany'] as const) {
  test(`${form}, polled every ${BETWEEN_POLLS_MS} ms behind a dead sender's claim, gets the message within ${POLLS} polls`, async () => {
    await withMailbox<string>(`slow-${form}`, { capacity: 8, maxMessageSize: 64, codec: 'utf8' }, async (mb, name) => {
      claimWithoutPublishing(openRingView(name), deadPid());
      assert.equal(mb.trySend('behind'), true);
      const polled: Array<string | undefined> = [];
      for (let poll = 0; poll < POLLS && polled.at(-1) === undefined; poll++) {
        // Time has to pass between the polls (LOOK_MS): waiting longer only helps.
        if (poll > 0) await delay(BETWEEN_POLLS_MS);
        polled.push(form === 'tryReceive' ? mb.tryReceive()?.data : mb.tryReceiveMany(4)[0]?.data);
      }
      assert.equal(polled.at(-1), 'behind', `polls: ${JSON.stringify(polled)}`);
      assert.equal(mb.stats().messages, 0, 'the dead claim is no longer counted');
    });
  });
}
