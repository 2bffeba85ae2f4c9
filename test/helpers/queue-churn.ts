// One party of a race between removers (test/xproc/message-queue.test.ts): ROUNDS times,
// opens-or-creates the queue of KEY and removes it, while another party does the same.
// Says once, at the end, how often each call failed, by error code, as JSON:
// {"open":{"EAGAIN":1},"remove":{"EIDRM":12}}. Any error that is not an IpcError ends it.
// Usage: queue-churn.ts KEY ROUNDS
import { IpcError, MessageQueue } from '../../src/index.ts';
import { sayNow } from './protocol.ts';

const [key, rounds] = process.argv.slice(2) as [string, string];
const failures: Record<'open' | 'remove', Record<string, number>> = { open: {}, remove: {} };

function count(call: 'open' | 'remove', error: unknown): void {
  if (!(error instanceof IpcError)) throw error;
  failures[call][error.code] = (failures[call][error.code] ?? 0) + 1;
}

for (let round = 0; round < Number(rounds); round++) {
  let queue: MessageQueue;
  try {
    queue = MessageQueue.open(Number(key), { create: true });
  } catch (error) {
    count('open', error);
    continue;
  }
  try {
    queue.remove();
  } catch (error) {
    count('remove', error);
  } finally {
    queue.close();
  }
}
sayNow(JSON.stringify(failures));
