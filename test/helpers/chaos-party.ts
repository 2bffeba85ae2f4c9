// One participant of the chaos test (test/stress/chaos.test.ts, run by chaos-run.ts): a
// process started ahead of need, that loads the library and waits to be told what to be,
// so that a participant killed with SIGKILL is replaced at once by a fresh process.
//
// Conversation (lines, protocol.ts; written with sayNow, so that every line written before a
// SIGKILL reaches the test): says "ready" once loaded, then hears one of
//   sender   <mailbox> <traffic> <maxLength> <id> <seed>
//     sends its messages 0, 1, 2, ... (chaos-message.ts) one at a time, each repeated
//     until a send resolves, and says "sent <seq> <time>" only after it resolved ("unsure
//     <seq> <time>" if a send gave up without withdrawing the message: error.withdrawn ===
//     false); <time> is Date.now() when it says so, before the next send begins
//   receiver <mailbox> <traffic> <maxLength> <id> <seed>
//     receives one message at a time: says "take <time>" before each receive, and after it
//     returned "got <sender> <seq> ok" (or "... bad" for one that is not byte for byte
//     what its header names), or "none" when it gave up: killed after "take" and before
//     the answer, it may have lost one message; killed after the answer, none
//   peeker   <mailbox> export <maxLength> <id> <seed>
//     the export pattern (chaos-mixed-traffic.ts): peeks, passes on, discards
//   probe-sender <mailbox> <traffic> <maxLength> <id>, probe-receiver <mailbox> <traffic> <maxLength>
//     say "open", wait for "go", then make one send / receive with a 1 s timeout
// and, for senders and receivers, later "stop": it ends its current operation and exits
// with code 0 after saying "stopped". Any error it did not expect: "error <code> <message>",
// then it exits with code 1.
//
// Each operation is drawn (from <seed>): trySend / tryReceive first or not, then the
// blocking form, asynchronous with a timeout or an aborting signal, or synchronous with a
// timeout, of 2 to 100 ms. A send or receive that gives up is repeated (a send with the
// same message: nothing of a send that gave up may stay queued). Traffic:
//   ring   plain sends and receives only: a store with a ring stays in RING mode
//   list   also selective receives (that take every message) and sends with sync: true
//   zero   the mailbox has zero capacity: every send waits for its receiver
//   mixed  batches, receives into a buffer, selective phases: see chaos-mixed-traffic.ts,
//          which has its own lines for batches
//   export the exporting side beside mixed traffic: its senders (as mixed, without sync
//          sends) and its peeker
import { writeSync } from 'node:fs';
import { setPriority } from 'node:os';
import { IpcError, Mailbox, type Message, type TryReceiveOptions } from '../../src/index.ts';
import { chaosMessage, checkChaosMessage } from './chaos-message.ts';
import { mixedReceiver, mixedSender, peeker, type Participation } from './chaos-mixed-traffic.ts';
import { hear, sayNow as say } from './protocol.ts';
import { generator } from './stress-message.ts';

const TIMEOUTS_MS = [2, 10, 30, 100];
/** The probe's limit: a fresh sender and receiver must get a message across within it. */
const PROBE_TIMEOUT_MS = 1000;
/** How long a busy loop may keep the event loop from reading "stop". */
const YIELD_EVERY_MS = 10;
/**
 * Senders and receivers run at this niceness: spares starting up (about 0.1 s of CPU each)
 * then get the cores first, and a fresh process is ready to replace a victim more often.
 */
const PARTICIPANT_NICENESS = 10;
/** Selectors that take every message (all are of type 0): selective receives, same traffic. */
const TAKE_ALL: TryReceiveOptions[] = [{ notType: 7 }, { maxType: 5 }, { type: 0 }];

let stopping = false;

/** Whether `error` is the end of a wait given up on (a timeout or an aborted signal). */
function gaveUp(error: unknown): boolean {
  return (error instanceof IpcError && error.code === 'ETIMEDOUT') || (error as { code?: unknown }).code === 'ABORT_ERR';
}

let lastYield = performance.now();

/** Lets the event loop read stdin now and then, however busy the loop is. */
async function yieldNowAndThen(): Promise<void> {
  if (performance.now() - lastYield < YIELD_EVERY_MS) return;
  await new Promise((resolve) => setImmediate(resolve));
  lastYield = performance.now();
}

async function sender(mailbox: Mailbox<Uint8Array>, traffic: string, maxLength: number, id: number, random: () => number): Promise<void> {
  for (let seq = 0; !stopping; seq++) {
    const data = chaosMessage(id, seq, maxLength);
    let sent = false;
    while (!sent && !stopping) {
      const draw = random();
      const timeout = TIMEOUTS_MS[(draw >>> 4) % TIMEOUTS_MS.length]!;
      const sync = traffic === 'list' && (draw & 0x300) === 0;
      try {
        if (!sync && (draw & 1) === 0 && mailbox.trySend(data)) {
          sent = true;
        } else if ((draw & 6) === 0) {
          mailbox.sendSync(data, { timeout, sync });
          sent = true;
        } else if ((draw & 6) === 2) {
          await mailbox.send(data, { signal: AbortSignal.timeout(timeout), sync });
          sent = true;
        } else {
          await mailbox.send(data, { timeout, sync });
          sent = true;
        }
      } catch (error) {
        if (!gaveUp(error)) throw error;
        // Given up without withdrawing it (the store's lock out of reach): it may still be
        // received, so it is not sent again; the test counts it neither promised nor phantom.
        if ((error as { withdrawn?: unknown }).withdrawn === false) {
          say(`unsure ${seq} ${Date.now()}`);
          break;
        }
      }
      await yieldNowAndThen();
    }
    if (sent) say(`sent ${seq} ${Date.now()}`);
  }
}

async function receiver(mailbox: Mailbox<Uint8Array>, traffic: string, maxLength: number, random: () => number): Promise<void> {
  while (!stopping) {
    const draw = random();
    const timeout = TIMEOUTS_MS[(draw >>> 4) % TIMEOUTS_MS.length]!;
    const selector = traffic === 'list' && (draw & 0x100) === 0 ? TAKE_ALL[(draw >>> 10) % TAKE_ALL.length]! : {};
    let message: Message<Uint8Array> | null = null;
    say(`take ${Date.now()}`);
    try {
      if ((draw & 1) === 0) message = mailbox.tryReceive(selector);
      if (message === null) {
        if ((draw & 6) === 0) message = mailbox.receiveSync({ ...selector, timeout });
        else if ((draw & 6) === 2) message = await mailbox.receive({ ...selector, signal: AbortSignal.timeout(timeout) });
        else message = await mailbox.receive({ ...selector, timeout });
      }
    } catch (error) {
      if (!gaveUp(error)) throw error;
    }
    if (message !== null) {
      const { sender: from, seq, intact } = checkChaosMessage(message.data, maxLength);
      say(`got ${from} ${seq} ${intact ? 'ok' : `bad ${message.data.length}`}`);
    } else {
      say('none');
    }
    await yieldNowAndThen();
  }
}

async function probe(mailbox: Mailbox<Uint8Array>, role: string, maxLength: number, id: number): Promise<void> {
  say('open');
  await hear(); // "go"
  if (role === 'probe-sender') {
    await mailbox.send(chaosMessage(id, 0, maxLength), { timeout: PROBE_TIMEOUT_MS });
    say('sent 0');
  } else {
    const message = await mailbox.receive({ timeout: PROBE_TIMEOUT_MS });
    const { sender: from, seq, intact } = checkChaosMessage(message.data, maxLength);
    say(`got ${from} ${seq} ${intact ? 'ok' : `bad ${message.data.length}`}`);
  }
}

say('ready');
const [role, name, traffic, maxLengthText, idText, seedText] = (await hear()).split(' ');
const maxLength = Number(maxLengthText);
const id = Number(idText ?? 0);
try {
  const mailbox = Mailbox.open<Uint8Array>(name!);
  try {
    if (role === 'probe-sender' || role === 'probe-receiver') {
      await probe(mailbox, role, maxLength, id);
    } else {
      setPriority(PARTICIPANT_NICENESS);
      void hear().then(() => {
        stopping = true;
      });
      const random = generator((Number(seedText) ^ Math.imul(id + 1, 0x27d4eb2d)) >>> 0);
      const run: Participation = { stopping: () => stopping, pause: yieldNowAndThen };
      if ((traffic === 'mixed' || traffic === 'export') && role === 'sender') await mixedSender(mailbox, maxLength, id, random, run, traffic === 'mixed');
      else if (traffic === 'mixed' && role === 'receiver') await mixedReceiver(mailbox, maxLength, random, run);
      else if (traffic === 'export' && role === 'peeker') await peeker(mailbox, maxLength, random, run);
      else if (role === 'sender') await sender(mailbox, traffic!, maxLength, id, random);
      else if (role === 'receiver') await receiver(mailbox, traffic!, maxLength, random);
      else throw new Error(`unknown role ${role}`);
      say('stopped');
    }
  } finally {
    mailbox.close();
  }
} catch (error) {
  const code = (error as { code?: unknown }).code;
  writeSync(2, `${error instanceof Error ? error.stack : String(error)}\n`);
  say(`error ${typeof code === 'string' ? code : 'none'} ${error instanceof Error ? error.message.replaceAll('\n', ' ') : String(error)}`);
  process.exitCode = 1;
}
