// Runs calls on a mailbox whose ring a test has corrupted (test/xproc/ring-corrupt-words.test.ts)
// and says how each ended and how long it took: "<call> <ECODE | ok> <ms>". A call that
// never ends is caught by the helper's hard timeout.
//
//   ring-corrupt-call.ts <mailbox> <call>...   calls: tryReceive, tryReceiveMany, trySend, receive (timeout 200 ms), stats
import { Mailbox } from '../../src/index.ts';
import { say } from './protocol.ts';

const [name, ...calls] = process.argv.slice(2);
const mailbox = Mailbox.open<Uint8Array>(name!);

async function call(what: string): Promise<void> {
  switch (what) {
    case 'tryReceive':
      mailbox.tryReceive();
      return;
    case 'tryReceiveMany':
      mailbox.tryReceiveMany(4);
      return;
    case 'trySend':
      mailbox.trySend(new Uint8Array([1, 2, 3]));
      return;
    case 'receive':
      await mailbox.receive({ timeout: 200 });
      return;
    case 'stats':
      mailbox.stats();
      return;
    default:
      throw new Error(`unknown call ${what}`);
  }
}

for (const what of calls) {
  const begun = performance.now();
  let outcome = 'ok';
  try {
    await call(what);
  } catch (error) {
    outcome = String((error as { code?: unknown }).code ?? error);
  }
  say(`${what} ${outcome} ${Math.round(performance.now() - begun)}`);
}
