// Blocks its thread in a synchronous wait that nothing will end, to show it can still be
// stopped. Meant for a worker thread handed the buffer (see sync-channel.ts); says
// "blocking <kernel thread id>" just before it blocks.
// Usage: sync-block.ts semaphore|condition|mutex|mailbox -
//   semaphore: Semaphore.waitSync() on a Semaphore at byte 0 with count 0
//   condition: Condition.waitSync() (HANDOFF layout), never notified
//   mutex:     Mutex.lockSync() (HANDOFF layout) on a Mutex someone else holds
//   mailbox:   Mailbox.receiveSync() on the empty mailbox "blocked" (made by the caller)
import { Condition, Mailbox, Mutex, Semaphore } from '../../src/index.ts';
import { THREAD_ID } from '../../src/core/thread-id.ts';
import { args, openShared, say } from './sync-channel.ts';
import { HANDOFF } from './sync-layout.ts';

const [kind, name] = args();
const shared = openShared(name!);
const mutex = new Mutex(shared.buffer, HANDOFF.mutex);

function block(): void {
  if (kind === 'semaphore') {
    const semaphore = new Semaphore(shared.buffer, 0);
    say(`blocking ${THREAD_ID}`);
    semaphore.waitSync();
  } else if (kind === 'condition') {
    const condition = new Condition(shared.buffer, HANDOFF.condition);
    mutex.lockSync();
    say(`blocking ${THREAD_ID}`);
    condition.waitSync(mutex);
  } else if (kind === 'mutex') {
    say(`blocking ${THREAD_ID}`);
    mutex.lockSync();
  } else if (kind === 'mailbox') {
    const mailbox = Mailbox.open('blocked');
    say(`blocking ${THREAD_ID}`);
    mailbox.receiveSync();
  } else {
    throw new Error(`unknown kind ${kind}`);
  }
  say('returned');
}

// Block from a callback, not from the module's top level: terminating a worker whose
// top-level module code is still running trips a V8 check on Node 22 and 24
// (nodejs/node#53238), a crash of Node's, not of the wait.
setImmediate(block);
