// Scenario shm-race: two processes add to one counter in shared memory without a lock, and
// additions are lost. The demo process and a peer each add 1 a million times.
import { SharedMemory } from '../../index.ts';
import { count, ms } from './narration.ts';
import type { Scenario } from './scenario.ts';
import { addWithoutLock, COUNTER, counterView, DEMO_MEET_MS, INCREMENTS, meet, PEER_MEET_MS, SEGMENT_BYTES, SEGMENT_NAME } from './shm-counter.ts';

/** `part` of `whole` as a whole percentage, "under 1%" rather than a misleading 0%. */
function percent(part: number, whole: number): string {
  const value = (100 * part) / whole;
  return value < 1 ? 'under 1%' : `${Math.round(value)}%`;
}

export const shmRace: Scenario = {
  name: 'shm-race',
  title: 'shared memory without a Mutex: lost updates',
  lecture: 'Shared memory: "Must synchronize access to data". Two processes add 1 to one counter with plain loads and stores.',

  async run(stage) {
    const total = 2 * INCREMENTS;
    using segment = SharedMemory.create(SEGMENT_NAME, SEGMENT_BYTES);
    try {
      const { cells } = counterView(segment);
      stage.say(`created shared memory "${SEGMENT_NAME}" (${segment.size} bytes), a counter at 0 in it`);
      const peer = stage.startPeer('peer', [String(INCREMENTS)]);
      await peer.waitFor('ready');
      stage.say(`both start together: each adds 1 ${count(INCREMENTS)} times (load the counter, add 1, store it), no lock`);
      meet(cells, DEMO_MEET_MS);
      const elapsed = addWithoutLock(cells, INCREMENTS);
      stage.say(`added 1 ${count(INCREMENTS)} times in ${ms(elapsed)}`);
      await peer.finished();
      const final = Atomics.load(cells, COUNTER);
      const lost = total - final;
      if (lost > 0) {
        stage.result(
          `counter = ${count(final)}, not ${count(total)}: ${count(lost)} additions lost (${percent(lost, total)}). ` +
            'When both processes load the same value, both store that value + 1, and one addition is gone.',
        );
      } else {
        // It happens when the scheduler ran the two loops one after the other: said as it is.
        stage.result(
          `counter = ${count(final)}: this run lost no addition. The two loops did not overlap (a busy machine ` +
            'may run them one after the other); the race is still there: run "interproc demo shm-race" again.',
        );
      }
    } finally {
      segment.unlink();
    }
  },

  async peer(side, [times]) {
    using segment = SharedMemory.open(SEGMENT_NAME);
    const { cells } = counterView(segment);
    side.say(`opened shared memory "${SEGMENT_NAME}" by name (created by pid ${segment.creatorPid})`);
    side.tell('ready');
    meet(cells, PEER_MEET_MS);
    const elapsed = addWithoutLock(cells, Number(times));
    side.say(`added 1 ${count(Number(times))} times in ${ms(elapsed)}`);
  },
};
