// A process whose main thread never loads the addon: only a worker thread does, and it is
// terminated with shared buffers and asynchronous waits still alive. The addon must stay
// loaded until the worker's isolate has released them (their deleters are addon code).
// Usage: wait-worker-only.ts <segment>
// -> "done {code}" once the worker is gone; the process then ends by itself.
import { expectState, startWaitWorker } from './wait-common.ts';
import { say } from './protocol.ts';

const [name] = process.argv.slice(2);
const worker = startWaitWorker({ name: name!, waits: 100, words: 10, first: 0 });
await expectState(worker, 'waiting');
await worker.worker.terminate();
say(`done ${JSON.stringify({ code: await worker.exited })}`);
