// Scenario blocking: a non-blocking receive (tryReceive: null at once), a blocking receive
// (receive: waits until a peer process sends), and a blocking send (send with sync: true:
// the peer waits until the demo process has received its message).
import { Mailbox } from '../../index.ts';
import { ms } from './narration.ts';
import { PEER_TIMEOUT_MS } from './peer-process.ts';
import type { Scenario } from './scenario.ts';

const MAILBOX = 'inbox';
/** How long the demo process leaves the peer's blocking send waiting before it receives. */
const RECEIVE_DELAY_MS = 300;

export const blocking: Scenario = {
  name: 'blocking',
  title: 'blocking vs non-blocking receive (and send)',
  lecture:
    '"Blocking receive: suspend receiving process until data is received. Non-blocking receive: return either a message or ' +
    'null." "Blocking send: suspend sending process until message received."',

  async run(stage) {
    using inbox = Mailbox.create<string>(MAILBOX);
    try {
      stage.say(`created mailbox "${MAILBOX}", empty`);
      const empty = inbox.tryReceive();
      stage.say(`tryReceive() returned ${String(empty)} at once: nothing there (non-blocking receive)`);

      stage.say('receive() waits for a message: the demo process sleeps (blocking receive) while a peer starts');
      const waitStarted = performance.now();
      const received = inbox.receive({ timeout: PEER_TIMEOUT_MS });
      const peer = stage.startPeer('peer', []);
      const first = await received;
      stage.say(`receive() waited ${ms(performance.now() - waitStarted)} and returned "${first.data}" from pid ${first.from.pid}`);

      await peer.waitFor('sending');
      stage.say(`lets the peer's blocking send wait ${RECEIVE_DELAY_MS} ms before receiving`);
      await new Promise((resolve) => setTimeout(resolve, RECEIVE_DELAY_MS));
      const second = await inbox.receive({ timeout: PEER_TIMEOUT_MS });
      stage.say(`received "${second.data}"`);
      const [blockedMs = '?'] = await peer.waitFor('sent');
      await peer.finished();
      stage.result(
        `tryReceive() answered null at once; receive() slept until the message came; the peer's send({ sync: true }) ` +
          `blocked it ${blockedMs} ms, until its message was received.`,
      );
    } finally {
      inbox.unlink();
    }
  },

  async peer(side) {
    using inbox = Mailbox.open<string>(MAILBOX);
    side.say(`opened mailbox "${MAILBOX}" by name; send("hello"): returns at once`);
    await inbox.send('hello', { timeout: PEER_TIMEOUT_MS });
    side.say('send("are you there?", { sync: true }): waits until it is received');
    side.tell('sending');
    const started = performance.now();
    await inbox.send('are you there?', { sync: true, timeout: PEER_TIMEOUT_MS });
    const blockedMs = performance.now() - started;
    side.say(`that send returned after ${ms(blockedMs)}, once the demo had received the message`);
    side.tell('sent', Math.round(blockedMs));
  },
};
