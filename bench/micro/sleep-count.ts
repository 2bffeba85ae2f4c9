// Instructions per sleeping receive, for callgrind: in one thread, N cycles of a
// receive({ spin: 0 }) that finds nothing and sleeps on the thread's doorbell, a trySend()
// that rings it, and the event loop delivering the ring ('mailbox'); or the doorbell alone,
// waitBell() and ringBell() with a fixed token ('bell'). Both warm up first, so a run of N
// less a run of 0 is N cycles of optimized code:
//
//   valgrind --tool=callgrind node --single-threaded --import tsx bench/micro/sleep-count.ts mailbox 20000
//   valgrind --tool=callgrind node --single-threaded --import tsx bench/micro/sleep-count.ts mailbox 0
//
// (bench/micro/sleep-cycle.ts measures the same cycle's CPU time.)
import { Mailbox } from '../../src/index.ts';
import { openDoorbell, ringBell, waitBell } from '../../src/core/doorbell.ts';

process.env.INTERPROC_NAMESPACE ??= `sleep-count-${process.pid}`;
const path = process.argv[2] ?? 'mailbox';
const cycles = Number(process.argv[3] ?? 20_000);
const WARM_UP = 20_000;
const tid = openDoorbell();
if (tid === null) throw new Error('no doorbell in this thread');
/** A word that never changes: the bell waits here watch nothing but the bell. */
const still = new Int32Array(new SharedArrayBuffer(4));
const TOKEN = 7;
const box = Mailbox.create<Uint8Array>(`sleep-count-${process.pid}`, { capacity: 16, maxMessageSize: 64, codec: 'bytes' });
const payload = new Uint8Array(64).fill(7);
const options = { spin: 0 };

async function run(count: number): Promise<void> {
  if (path === 'mailbox') {
    for (let i = 0; i < count; i++) {
      const received = box.receive(options);
      box.trySend(payload);
      await received;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const rung = waitBell(TOKEN, still, 0, 0);
      ringBell(tid!, TOKEN);
      await rung;
    }
  }
}

try {
  await run(WARM_UP);
  const cpu = process.cpuUsage();
  await run(cycles);
  const used = process.cpuUsage(cpu);
  console.log(`${path}: ${cycles} cycles, ${cycles === 0 ? 0 : ((used.user + used.system) / cycles).toFixed(2)} µs of CPU each`);
} finally {
  box.unlink();
  box.close();
}
