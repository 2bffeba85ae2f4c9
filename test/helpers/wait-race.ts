// Cancellation racing completion: rounds of short asynchronous waits, each ended by a
// timeout or an abort, while another process keeps changing and waking the words.
// Usage: wait-race.ts <segment>
// -> "ready"; rounds run until the test says "stop"; -> "done {...}" and the process ends
// by itself (so no wait, timer or ref is left behind): -> "exit {pending}".
import { setMaxListeners } from 'node:events';
import { SharedMemory } from '../../src/index.ts';
import { pendingAsyncWaits, waitAsync, WAIT_CHANGED, WAIT_TIMED_OUT, WAIT_WOKEN } from '../../src/core/wait.ts';
import { hear, say } from './protocol.ts';

const [name] = process.argv.slice(2);
const segment = SharedMemory.open(name!);
const words = new Int32Array(segment.buffer, 0, 4);
const counts = { rounds: 0, woken: 0, changed: 0, timedOut: 0, aborted: 0, unexpected: [] as string[] };
let stopped = false;
process.on('exit', () => say(`exit ${JSON.stringify({ pending: pendingAsyncWaits() })}`));
const stop = hear().then(() => {
  stopped = true;
});

async function round(): Promise<void> {
  const controller = new AbortController();
  setMaxListeners(200, controller.signal);
  const waits = Array.from({ length: 200 }, (_, i) => {
    const word = i % 4;
    // Timeouts of 0-3 ms for half of them, the shared abort for the rest (and some both).
    const timeoutMs = i % 2 === 0 ? i % 4 : i % 3 === 0 ? 2 : Infinity;
    return waitAsync(words, word, Atomics.load(words, word), { timeoutMs, signal: controller.signal });
  });
  setImmediate(() => controller.abort());
  for (const outcome of await Promise.allSettled(waits)) {
    if (outcome.status === 'rejected') {
      const code = (outcome.reason as { code?: string }).code;
      if (code === 'ABORT_ERR') counts.aborted++;
      else counts.unexpected.push(String(outcome.reason));
    } else if (outcome.value === WAIT_WOKEN) counts.woken++;
    else if (outcome.value === WAIT_CHANGED) counts.changed++;
    else if (outcome.value === WAIT_TIMED_OUT) counts.timedOut++;
    else counts.unexpected.push(String(outcome.value));
  }
  counts.rounds++;
}

say('ready');
while (!stopped) await round();
await stop;
say(`done ${JSON.stringify({ ...counts, pending: pendingAsyncWaits() })}`);
segment.close();
