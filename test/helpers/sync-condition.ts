// Plays one side of a Condition conversation (process or worker; see sync-channel.ts).
// Layout: HANDOFF in sync-layout.ts. Every wait is in a predicate loop under the Mutex,
// with a timeout so that a lost notify fails (ETIMEDOUT) instead of hanging.
//
// Usage: sync-condition.ts consume <segment | -> <sync | async>
//   takes the Mutex, says "waiting" (still holding it, so nobody can set the flag before
//   this waits), waits until `ready`, says "value=<value> waits=<returns from wait>".
// Usage: sync-condition.ts produce <segment | -> <value>
//   says "ready", waits for "go", sets `value` and `ready` under the Mutex and notify()s.
// Usage: sync-condition.ts ping|pong <segment | -> <sync | async> <count>
//   ping passes 1..count to pong, one at a time, taking turns through the Condition;
//   pong checks they arrive in order and says "received=<n> sum=<sum>".
// Usage: sync-condition.ts ticket <segment | -> <sync | async> [rounds]
//   for each round r = 1..rounds (default 1): takes the Mutex, counts itself in `arrived`,
//   says "waiting r", waits until a ticket is available, takes it, says "woken r"; before
//   each later round it waits for "next" (so that it cannot take a ticket of this round).
import { Condition, Mutex } from '../../src/index.ts';
import { args, hear, openShared, say } from './sync-channel.ts';
import { HANDOFF } from './sync-layout.ts';

const WAIT_MS = 10_000;

const [mode, name, ...rest] = args();
const shared = openShared(name!);
const mutex = new Mutex(shared.buffer, HANDOFF.mutex);
const condition = new Condition(shared.buffer, HANDOFF.condition);
const words = new Int32Array(shared.buffer, 0, 16);

/** Waits under the held Mutex until `predicate` holds; returns how many waits that took. */
async function waitUntil(style: string | undefined, predicate: () => boolean): Promise<number> {
  let waits = 0;
  while (!predicate()) {
    if (style === 'sync') condition.waitSync(mutex, { timeout: WAIT_MS });
    else await condition.wait(mutex, { timeout: WAIT_MS });
    waits++;
    if (!mutex.heldByCurrentThread) throw new Error('the Mutex is not held after a wait');
  }
  return waits;
}

async function lock(style: string | undefined): Promise<void> {
  if (style === 'sync') mutex.lockSync({ timeout: WAIT_MS });
  else await mutex.lock({ timeout: WAIT_MS });
}

switch (mode) {
  case 'consume': {
    const [style] = rest;
    await lock(style);
    say('waiting');
    const waits = await waitUntil(style, () => words[HANDOFF.ready] === 1);
    const value = words[HANDOFF.value];
    mutex.unlock();
    say(`value=${value} waits=${waits}`);
    break;
  }
  case 'produce': {
    const [value] = rest;
    say('ready');
    await hear();
    await mutex.lock({ timeout: WAIT_MS });
    words[HANDOFF.value] = Number(value);
    words[HANDOFF.ready] = 1;
    condition.notify();
    mutex.unlock();
    say('produced');
    break;
  }
  case 'ping':
  case 'pong': {
    const [style, count] = rest;
    const me = mode === 'ping' ? 0 : 1;
    let sum = 0;
    say('ready');
    await hear();
    for (let i = 1; i <= Number(count); i++) {
      await lock(style);
      await waitUntil(style, () => words[HANDOFF.turn] === me);
      if (me === 0) {
        words[HANDOFF.ball] = i;
      } else {
        const ball = words[HANDOFF.ball]!;
        if (ball !== i) throw new Error(`pong expected ${i} and received ${ball}`);
        sum += ball;
      }
      words[HANDOFF.turn] = 1 - me;
      condition.notify();
      mutex.unlock();
    }
    say(me === 0 ? 'sent' : `received=${count} sum=${sum}`);
    break;
  }
  case 'ticket': {
    const [style, rounds = '1'] = rest;
    for (let round = 1; round <= Number(rounds); round++) {
      if (round > 1) await hear();
      await lock(style);
      words[HANDOFF.arrived]!++;
      say(`waiting ${round}`);
      await waitUntil(style, () => words[HANDOFF.tickets]! > 0);
      words[HANDOFF.tickets]!--;
      mutex.unlock();
      say(`woken ${round}`);
    }
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
shared.close();
