// A process with a doorbell, for the doorbell tests. Says "tid <kernel thread id>" (or
// "tid null" when it has no bell) first.
// Usage: doorbell-peer.ts serve [segment]
//   then obeys lines on stdin:
//   wait <token> [index]   -> "waiting <token>" once registered, "woken <token> <result>"
//                             later; the wait watches word <index> (default 0) of the
//                             shared memory segment, if one is named, expecting 0 (a waker
//                             sets the word, then rings); otherwise a word that never
//                             changes, so that only rings end waits
//   ring <tid> <token>     -> "rang <true|false>"
//   pong <tid> <base> <n>  -> bell ping-pong, answering side: waits for token base+i and
//                             rings it back, i = 1..n, each next wait registered before
//                             the ring; "ready" once the first wait is, "pong done" at the end
//   cpu <ms>               -> "measuring", then after <ms> of wall time "cpu <fraction>
//                             <wall ms> <drains> <wasted>": the CPU time this process used
//                             meanwhile (user + system, from process.cpuUsage()) per wall
//                             time, 1 = one core, the wall time measured, and the bell's
//                             drains and wasted wake-ups meanwhile (bellStats()); keeps
//                             obeying lines meanwhile
// Usage: doorbell-peer.ts live <ref|unref>
//   registers one bell wait (token 1) with that ref option, says "waiting", and says
//   "woken <result>" if rung and "beforeExit pending=<n>" when its event loop runs empty;
//   reads no stdin, so nothing but the wait can keep it alive.
import { bellStats, openDoorbell, pendingBellWaits, ringBell, waitBell } from '../../src/core/doorbell.ts';
import { SharedMemory } from '../../src/index.ts';
import { hear, say } from './protocol.ts';

const [mode, option] = process.argv.slice(2);
const tid = openDoorbell();
say(`tid ${tid}`);
const words = new Int32Array(
  mode === 'serve' && option !== undefined ? SharedMemory.open(option).buffer : new SharedArrayBuffer(4),
);

if (mode === 'live') {
  process.once('beforeExit', () => say(`beforeExit pending=${pendingBellWaits()}`));
  // Not awaited: an unsettled top-level await would end the process with code 13.
  void waitBell(1, words, 0, 0, { ref: option === 'ref' }).then((result) => say(`woken ${result}`));
  say('waiting');
} else if (mode === 'serve' && tid !== null) {
  for (;;) {
    const [command, ...rest] = (await hear()).split(' ');
    const numbers = rest.map(Number);
    if (command === 'wait') {
      const [token, index = 0] = numbers as [number, number?];
      void waitBell(token, words, index, 0).then((result) => say(`woken ${token} ${result}`));
      say(`waiting ${token}`);
    } else if (command === 'ring') {
      say(`rang ${ringBell(numbers[0]!, numbers[1]!)}`);
    } else if (command === 'pong') {
      const [peer, base, count] = numbers as [number, number, number];
      let next = waitBell(base + 1, words, 0, 0);
      say('ready');
      for (let i = 1; i <= count; i++) {
        await next;
        if (i < count) next = waitBell(base + i + 1, words, 0, 0);
        if (!ringBell(peer, base + i)) throw new Error(`ring ${i} failed`);
      }
      say('pong done');
    } else if (command === 'cpu') {
      const bellBefore = bellStats();
      const before = process.cpuUsage();
      const started = performance.now();
      setTimeout(() => {
        const { user, system } = process.cpuUsage(before);
        const wall = performance.now() - started;
        const bell = bellStats();
        const drains = bell.drains - bellBefore.drains;
        const wasted = bell.wasted - bellBefore.wasted;
        say(`cpu ${((user + system) / 1000 / wall).toFixed(4)} ${Math.round(wall)} ${drains} ${wasted}`);
      }, numbers[0]!);
      say('measuring');
    } else {
      throw new Error(`unknown command ${command}`);
    }
  }
}
