// One lifecycle call on a named object, for tests that run it as another user (nobody):
// says "ok" or "error <code>" (the IpcError's code), then exits 0. Anything else is a failure.
// Usage: object-as-user.ts (create MODE | open | unlink) (shm | mailbox | mq) NAME
//        object-as-user.ts set mq NAME MODE     (a queue's set({ mode }))
// A segment made here is 64 bytes; a mailbox has the json codec and one queued message.
// For mq, NAME is the queue's key (digits: a number key); unlink is remove().
import { IpcError, Mailbox, MessageQueue, SharedMemory } from '../../src/index.ts';
import { say } from './protocol.ts';

const [op, kind, name, mode] = process.argv.slice(2) as [string, string, string, string | undefined];

async function run(): Promise<void> {
  if (kind === 'shm') {
    if (op === 'create') SharedMemory.create(name, 64, { mode: Number(mode) }).close();
    else if (op === 'open') SharedMemory.open(name).close();
    else if (op === 'unlink') SharedMemory.unlink(name);
    else throw new Error(`unknown op ${op}`);
  } else if (kind === 'mailbox') {
    if (op === 'create') {
      using mailbox = Mailbox.create(name, { codec: 'json', mode: Number(mode) });
      await mailbox.send('planted');
    } else if (op === 'open') Mailbox.open(name).close();
    else if (op === 'unlink') Mailbox.unlink(name);
    else throw new Error(`unknown op ${op}`);
  } else if (kind === 'mq') {
    const key = /^\d+$/.test(name) ? Number(name) : name;
    if (op === 'open') MessageQueue.open(key).close();
    else if (op === 'unlink') {
      using queue = MessageQueue.open(key);
      queue.remove();
    } else if (op === 'set') {
      using queue = MessageQueue.open(key);
      queue.set({ mode: Number(mode) });
    } else throw new Error(`unknown op ${op}`);
  } else {
    throw new Error(`unknown kind ${kind}`);
  }
}

try {
  await run();
  say('ok');
} catch (error) {
  if (!(error instanceof IpcError)) throw error;
  say(`error ${error.code}`);
}
