// Plays one side of a Mutex conversation (process or worker; see sync-channel.ts). The
// Mutex is at byte 0 of the buffer.
//
// Usage: sync-mutex.ts hold <segment | -> <sync | async>
//   takes the Mutex, says "locked", then waits: "release" unlocks it and says "released";
//   the test may instead kill the process (or terminate the worker) while it holds the lock.
// Usage: sync-mutex.ts report <segment | -> <sync | async> [timeoutMs]
//   says "ready", waits for "go", takes the Mutex (lock() or lockSync() with the timeout,
//   default 5000), says "ownerDied=<bool>", unlocks, says "done".
// Usage: sync-mutex.ts unlock <segment | ->
//   calls unlock() (on a Mutex it does not hold) and says "unlocked" or "error=<code>".
import { Mutex } from '../../src/index.ts';
import { args, hear, openShared, say } from './sync-channel.ts';

const [mode, name, style, timeout = '5000'] = args();
const shared = openShared(name!);
const mutex = new Mutex(shared.buffer, 0);

async function take(): Promise<boolean> {
  const options = { timeout: Number(timeout) };
  const result = style === 'sync' ? mutex.lockSync(options) : await mutex.lock(options);
  if (!mutex.heldByCurrentThread) throw new Error('the Mutex is not held after locking');
  return result.ownerDied;
}

if (mode === 'hold') {
  await take();
  say('locked');
  const command = await hear();
  if (command === 'release') {
    mutex.unlock();
    say('released');
  }
} else if (mode === 'report') {
  say('ready');
  await hear();
  const ownerDied = await take();
  say(`ownerDied=${ownerDied}`);
  mutex.unlock();
  say('done');
} else if (mode === 'unlock') {
  try {
    mutex.unlock();
    say('unlocked');
  } catch (error) {
    say(`error=${(error as { code?: string }).code}`);
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
shared.close();
