// A TypeScript consumer of the installed package, as a user would write one: a Mailbox<T>
// with a typed message, `using` for its handle, and errors narrowed on their code.
// scripts/pack-test.sh type-checks it with tsc (tsconfig.json here: strict, NodeNext) and
// then runs it with tsx, so the behaviour it asserts is the installed package's too.
import assert from 'node:assert/strict';
import { IpcError, Mailbox, type Message } from 'interproc';

interface Job {
  id: number;
  command: 'resize' | 'delete';
  paths: string[];
}

function describe(job: Job): string {
  return `${job.id}: ${job.command} ${job.paths.join(' ')}`;
}

/** The code of an IpcError, narrowed: anything else is not this check's to handle. */
function ipcCode(error: unknown): IpcError['code'] {
  if (error instanceof IpcError) return error.code;
  throw error;
}

const name = `typed-jobs-${process.pid}`;
let handle: Mailbox<Job> | undefined;
{
  using jobs = Mailbox.create<Job>(name, { capacity: 1, codec: 'json', whenFull: 'fail' });
  handle = jobs;
  try {
    await jobs.send({ id: 1, command: 'resize', paths: ['a.png', 'b.png'] }, { type: 3 });

    // Full, and whenFull 'fail': a second send is refused at once instead of waiting.
    let refused = false;
    try {
      await jobs.send({ id: 2, command: 'delete', paths: [] });
    } catch (e) {
      if (e instanceof IpcError && e.code === 'EAGAIN') refused = true;
      else throw e;
    }
    assert.equal(refused, true, 'a send into a full mailbox with whenFull "fail" must be refused with EAGAIN');

    const message: Message<Job> = await jobs.receive({ timeout: 10_000 });
    assert.equal(describe(message.data), '1: resize a.png b.png');
    assert.equal(message.type, 3);
    assert.equal(message.from.pid, process.pid);

    // Empty now: a receive with a deadline ends in ETIMEDOUT.
    const outcome = await jobs.receive({ timeout: 50 }).then(
      (unexpected) => `received ${describe(unexpected.data)}`,
      (e: unknown) => ipcCode(e),
    );
    assert.equal(outcome, 'ETIMEDOUT');
  } finally {
    Mailbox.unlink(name);
  }
}
// Leaving the block disposed of the handle.
assert.equal(handle.closed, true);
console.log('typed consumer: Mailbox<Job> round trip, EAGAIN when full, ETIMEDOUT when empty, `using` closed the handle');
