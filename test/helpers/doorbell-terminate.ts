// Terminates worker threads that have a doorbell, pending bell waits and rings arriving
// (from this thread, and from each worker to itself) before, during and after their
// teardown. Run as a process of its own, so that a crash shows as a signal instead of
// taking down the test runner. Says "terminated <workers> rang=<rings queued> refused=<rings
// refused>" and then "after <ringBell results for the workers' tids>".
// Usage: doorbell-terminate.ts <workers>
import { setImmediate as nextTurn } from 'node:timers/promises';
import { openDoorbell, ringBell } from '../../src/core/doorbell.ts';
import { startWorker, type TestWorker } from '../support/worker.ts';
import { say } from './protocol.ts';

const count = Number(process.argv[2]);
if (openDoorbell() === null) throw new Error('no doorbell');

async function start(): Promise<{ worker: TestWorker; tid: number }> {
  const worker = startWorker('doorbell-worker.ts', undefined, { timeoutMs: 30_000 });
  const tid = Number(String(await worker.waitFor(/^tid /)).split(' ')[1]);
  worker.send('hold 100');
  await worker.waitFor('holding 100');
  worker.send('echo');
  await worker.waitFor('echoing');
  return { worker, tid };
}

const workers = await Promise.all(Array.from({ length: count }, start));
const tids = workers.map(({ tid }) => tid);
if (new Set([...tids, process.pid]).size !== count + 1) throw new Error(`tids not distinct: ${tids}`);
let rang = 0;
let refused = 0;
let token = 1;
function ringAll(): void {
  for (const tid of tids) {
    for (let i = 0; i < 4; i++) {
      if (ringBell(tid, token++)) rang++;
      else refused++;
    }
  }
}
let stopped = false;
const terminating = Promise.all(workers.map(({ worker }) => worker.terminate())).then(() => {
  stopped = true;
});
// Rings in every turn of the event loop until every worker is gone.
while (!stopped) {
  ringAll();
  await nextTurn();
}
await terminating;
say(`terminated ${count} rang=${rang} refused=${refused}`);
say(`after ${tids.map((tid) => ringBell(tid, 1)).join(' ')}`);
