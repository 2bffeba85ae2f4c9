// Scenario shm-mutex: shm-race again, each addition inside a Mutex: none is lost. Then the
// demo process hands the peer a message through a Condition in the same segment.
import { corrupt } from '../../core/errors.ts';
import { SharedMemory } from '../../index.ts';
import { count, ms } from './narration.ts';
import { PEER_TIMEOUT_MS } from './peer-process.ts';
import type { Scenario } from './scenario.ts';
import {
  addUnderMutex,
  COUNTER,
  counterView,
  DEMO_MEET_MS,
  DONE,
  INCREMENTS,
  meet,
  MESSAGE_LENGTH,
  MESSAGE_MAX_BYTES,
  PEER_MEET_MS,
  SEGMENT_BYTES,
  SEGMENT_NAME,
} from './shm-counter.ts';

export const shmMutex: Scenario = {
  name: 'shm-mutex',
  title: 'shared memory with a Mutex: no update lost',
  lecture: 'Shared memory: "Must synchronize access to data". The same two processes, each addition inside mutex.lockSync() and unlock().',

  async run(stage) {
    const total = 2 * INCREMENTS;
    using segment = SharedMemory.create(SEGMENT_NAME, SEGMENT_BYTES);
    try {
      const { mutex, condition, cells, message } = counterView(segment);
      stage.say(`created shared memory "${SEGMENT_NAME}" (${segment.size} bytes): a Mutex, a Condition, a counter at 0`);
      const peer = stage.startPeer('peer', [String(INCREMENTS)]);
      await peer.waitFor('ready');
      stage.say(`both start together: each adds 1 ${count(INCREMENTS)} times, holding the Mutex for each addition`);
      meet(cells, DEMO_MEET_MS);
      const elapsed = addUnderMutex(mutex, cells, INCREMENTS);
      stage.say(`added 1 ${count(INCREMENTS)} times in ${ms(elapsed)}`);

      // The peer sleeps on the Condition (it said so while holding the Mutex, which it lets go
      // only inside wait()): the message and the notify come after it is asleep.
      await peer.waitFor('waiting');
      const text = new TextEncoder().encode(`hello from pid ${process.pid}: the counter is ${count(Atomics.load(cells, COUNTER))}`);
      await mutex.lock({ timeout: PEER_TIMEOUT_MS });
      try {
        message.set(text);
        Atomics.store(cells, MESSAGE_LENGTH, text.length);
        Atomics.store(cells, DONE, 1);
        condition.notify();
      } finally {
        mutex.unlock();
      }
      stage.say('wrote a message into the segment under the Mutex and notified the Condition');
      await peer.finished();

      const final = Atomics.load(cells, COUNTER);
      if (final !== total) throw new Error(`the counter is ${count(final)} with the Mutex, not ${count(total)}: additions were lost`);
      stage.result(
        `counter = ${count(final)} = 2 x ${count(INCREMENTS)}: no addition lost. One process at a time loads, adds ` +
          `and stores; the price here: ${ms(elapsed)} for ${count(INCREMENTS)} lock and unlock pairs.`,
      );
    } finally {
      segment.unlink();
    }
  },

  async peer(side, [times]) {
    using segment = SharedMemory.open(SEGMENT_NAME);
    const { mutex, condition, cells, message } = counterView(segment);
    side.say(`opened shared memory "${SEGMENT_NAME}" by name (created by pid ${segment.creatorPid})`);
    side.tell('ready');
    meet(cells, PEER_MEET_MS);
    const elapsed = addUnderMutex(mutex, cells, Number(times));
    side.say(`added 1 ${count(Number(times))} times in ${ms(elapsed)}`);

    await mutex.lock({ timeout: PEER_TIMEOUT_MS });
    try {
      while (Atomics.load(cells, DONE) === 0) {
        side.say('waits on the Condition for a message (asleep in the kernel, not polling)');
        side.tell('waiting');
        await condition.wait(mutex, { timeout: PEER_TIMEOUT_MS });
      }
      const length = Atomics.load(cells, MESSAGE_LENGTH);
      if (length < 0 || length > MESSAGE_MAX_BYTES) throw corrupt(`message length ${length} in shared memory "${SEGMENT_NAME}"`);
      const text = new TextDecoder().decode(message.slice(0, length));
      side.say(`woke up; the message in the segment: "${text}"`);
    } finally {
      mutex.unlock();
    }
  },
};
