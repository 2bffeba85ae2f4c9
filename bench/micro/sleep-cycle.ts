// The CPU cost of one sleeping receive, without the wake-up latency: in one thread, a
// receive({ spin: 0 }) that finds nothing and goes to sleep on the thread's doorbell, a
// trySend() that rings that bell, and the event loop delivering the ring. Beside it the
// doorbell alone (waitBell, ringBell to this thread, the same delivery). Both make one
// sendto and one recvmmsg per cycle; the difference is what the Mailbox does around the
// wake-up (its sleep protocol, promises, the receive's allocations). CPU time does not
// depend on the machine's load as wall time does:
//
//   node --import tsx bench/micro/sleep-cycle.ts [CYCLES]
import { Mailbox } from '../../src/index.js';
import { openDoorbell, ringBell, waitBell } from '../../src/core/doorbell.js';

process.env.INTERPROC_NAMESPACE ??= `sleep-cycle-${process.pid}`;
const cycles = Number(process.argv[2] ?? 100_000);
const tid = openDoorbell();
if (tid === null) throw new Error('no doorbell in this thread');
/** A word that never changes: the bell waits here watch nothing but the bell. */
const still = new Int32Array(new SharedArrayBuffer(4));
const TOKEN = 7;
const box = Mailbox.create<Uint8Array>('sleep-cycle', { capacity: 16, maxMessageSize: 64, codec: 'bytes' });
const payload = new Uint8Array(64).fill(7);
const plain = { spin: 0 };
const into = { spin: 0, into: new Uint8Array(64) };

const variants: Record<string, (n: number) => Promise<void>> = {
  async mailbox(n) {
    for (let i = 0; i < n; i++) {
      const received = box.receive(plain);
      box.trySend(payload);
      await received;
    }
  },
  async 'mailbox into'(n) {
    for (let i = 0; i < n; i++) {
      const received = box.receive(into);
      box.trySend(payload);
      await received;
    }
  },
  async bell(n) {
    for (let i = 0; i < n; i++) {
      const rung = waitBell(TOKEN, still, 0, 0);
      ringBell(tid, TOKEN);
      await rung;
    }
  },
};

try {
  for (const run of Object.values(variants)) await run(cycles / 10); // warm-up
  console.log(`${cycles} cycles each; CPU per cycle (user + system), three rounds`);
  for (let round = 0; round < 3; round++) {
    const line: string[] = [];
    for (const [name, run] of Object.entries(variants)) {
      const cpu = process.cpuUsage();
      await run(cycles);
      const used = process.cpuUsage(cpu);
      line.push(`${name} ${((used.user + used.system) / cycles).toFixed(2)} µs (user ${(used.user / cycles).toFixed(2)})`);
    }
    console.log(line.join('   '));
  }
} finally {
  box.unlink();
  box.close();
}
