// A process that uses a mailbox whose store lock is held by a stopped process (the test
// arranges that before starting it). It runs each call that needs the lock, notes how it
// ended and how often a 10 ms interval ticked meanwhile, and prints one JSON report. Then,
// on "drain" (once the test has ended the holder), it receives everything still queued
// and prints that too.
// Usage: stopped-peer-victim.ts <mailbox name>
import { Mailbox } from '../../src/index.ts';
import { hear, say } from './protocol.ts';

const name = process.argv[2]!;
const mailbox = Mailbox.open<string>(name);
let ticks = 0;
const ticker = setInterval(() => ticks++, 10);

/** How a call ended: its value, or its error's code. */
async function outcome(call: () => unknown): Promise<{ value?: unknown; code?: unknown; ticks: number; ms: number }> {
  const before = ticks;
  const started = performance.now();
  const took = () => ({ ticks: ticks - before, ms: Math.round(performance.now() - started) });
  try {
    const value = await call();
    return { value: value ?? null, ...took() };
  } catch (error) {
    return { code: (error as { code?: unknown }).code, ...took() };
  }
}

const report: Record<string, unknown> = {};
report.trySend = await outcome(() => mailbox.trySend('try-sent'));
report.tryReceive = await outcome(() => mailbox.tryReceive()?.data ?? null);
report.tryReceiveSelective = await outcome(() => mailbox.tryReceive({ type: 42 }));
// Polling: once the holder has been waited out, later calls do not wait again.
report.pollTryReceive = await outcome(() => {
  for (let i = 0; i < 1000; i++) if (mailbox.tryReceive({ type: 42 }) !== null) return 'got one';
  return 'nothing';
});
report.stats = await outcome(() => mailbox.stats().repairs);
report.receive = await outcome(() => mailbox.receive({ type: 42, timeout: 300 }));
report.plainReceive = await outcome(() => mailbox.receive({ timeout: 300 }).then((message) => message.data));
const controller = new AbortController();
setTimeout(() => controller.abort(), 100);
report.abortedReceive = await outcome(() => mailbox.receive({ type: 42, signal: controller.signal }));
report.syncSend = await outcome(() => mailbox.send('sync-sent', { sync: true, timeout: 300 }));
report.receiveSync = await outcome(() => mailbox.receiveSync({ type: 42, timeout: 300 }));
say(JSON.stringify(report));

await hear(); // "drain": the holder is gone
const drained: string[] = [];
for (;;) {
  const message = mailbox.tryReceive();
  if (message === null) break;
  drained.push(message.data);
}
say(JSON.stringify({ drained, stats: mailbox.stats() }));
clearInterval(ticker);
mailbox.close();
