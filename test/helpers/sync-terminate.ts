// A helper process that starts workers blocked in synchronous waits (sync-block.ts), one
// per kind asked for; waits until each worker's thread really sleeps in the kernel; then
// terminates them all and says "terminated <kind> <ms>" as each one ends. Run as a process
// so that a worker that cannot be stopped (and so a process that cannot exit, even by
// process.exit()) is SIGKILLed by the test's hard timeout instead of hanging the test.
// Usage: sync-terminate.ts <semaphore|condition|mutex|mailbox>...
import { Mailbox, Mutex } from '../../src/index.ts';
import { startWorker } from '../support/worker.ts';
import { say } from './protocol.ts';
import { HANDOFF, HANDOFF_BYTES } from './sync-layout.ts';
import { inFutexWait, until } from './sync-probe.ts';

async function block(kind: string) {
  const buffer = new SharedArrayBuffer(HANDOFF_BYTES);
  if (kind === 'mutex' && !new Mutex(buffer, HANDOFF.mutex).tryLock()) throw new Error('cannot take the Mutex');
  if (kind === 'mailbox') Mailbox.create('blocked').close();
  const worker = startWorker('sync-block.ts', { args: [kind, '-'], buffer }, { timeoutMs: 20_000 });
  const line = String(await worker.waitFor(/^blocking /));
  const tid = Number(line.split(' ')[1]);
  await until(() => inFutexWait(process.pid, tid), `the ${kind} worker sleeps in a futex`);
  return { kind, worker };
}

const blocked = await Promise.all(process.argv.slice(2).map(block));
await Promise.all(
  blocked.map(async ({ kind, worker }) => {
    const started = performance.now();
    await worker.terminate();
    say(`terminated ${kind} ${Math.round(performance.now() - started)}`);
  }),
);
if (process.argv.includes('mailbox')) Mailbox.unlink('blocked');
