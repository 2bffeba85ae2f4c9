// A Condition wait that no notify ends, and what its failure tells (process or worker; see
// sync-channel.ts). Layout: HANDOFF in sync-layout.ts.
//
// Usage: sync-condition-timeout.ts <segment | -> <sync | async> <timeoutMs>
//   takes the Mutex, says "holding", waits for "go", then waits on the Condition with the
//   timeout (wait() or waitSync()); says "error=<code> ownerDied=<bool> held=<bool>" (or
//   "returned ownerDied=<bool>" if the wait returned), unlocks, says "done".
import { Condition, Mutex } from '../../src/index.ts';
import { args, hear, openShared, say } from './sync-channel.ts';
import { HANDOFF } from './sync-layout.ts';

const [name, style, timeout] = args();
const shared = openShared(name!);
const mutex = new Mutex(shared.buffer, HANDOFF.mutex);
const condition = new Condition(shared.buffer, HANDOFF.condition);

await mutex.lock({ timeout: 10_000 });
say('holding');
await hear();
try {
  const options = { timeout: Number(timeout) };
  const result = style === 'sync' ? condition.waitSync(mutex, options) : await condition.wait(mutex, options);
  say(`returned ownerDied=${result.ownerDied}`);
} catch (error) {
  const { code, ownerDied } = error as { code?: unknown; ownerDied?: unknown };
  say(`error=${String(code)} ownerDied=${String(ownerDied)} held=${mutex.heldByCurrentThread}`);
}
mutex.unlock();
say('done');
shared.close();
