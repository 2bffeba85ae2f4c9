// Scenario timeout: a peer's receive with a timeout gives up with ETIMEDOUT when nothing
// comes in time — the lecture's TIME_OUT — and returns the message when one does.
import { IpcError, Mailbox } from '../../index.ts';
import { ms } from './narration.ts';
import { PEER_TIMEOUT_MS } from './peer-process.ts';
import type { Scenario } from './scenario.ts';

const MAILBOX = 'replies';
/** The lecture's setTimeout(250). */
const TIMEOUT_MS = 250;

export const timeout: Scenario = {
  name: 'timeout',
  title: 'a receive with a timeout: ETIMEDOUT',
  lecture:
    '"If a process blocks for a certain amount of time, call returns with a special error code": setTimeout(250); ' +
    'if (recv(mailbox, msg, 80) == TIME_OUT) ...',

  async run(stage) {
    using replies = Mailbox.create<string>(MAILBOX);
    try {
      stage.say(`created mailbox "${MAILBOX}", empty; nobody sends to it yet`);
      const peer = stage.startPeer('peer', []);
      const [timedOutMs = '?'] = await peer.waitFor('timed-out');
      await peer.waitFor('waiting');
      stage.say('sends "late reply" while the peer waits again');
      await replies.send('late reply', { timeout: PEER_TIMEOUT_MS });
      await peer.finished();
      stage.result(
        `the first receive gave up after ${timedOutMs} ms with the error code ETIMEDOUT, for the caller to handle; ` +
          'the second got its message in time.',
      );
    } finally {
      replies.unlink();
    }
  },

  async peer(side) {
    using replies = Mailbox.open<string>(MAILBOX);
    side.say(`receive({ timeout: ${TIMEOUT_MS} }) on mailbox "${MAILBOX}"`);
    let started = performance.now();
    try {
      const unexpected = await replies.receive({ timeout: TIMEOUT_MS });
      throw new Error(`received "${unexpected.data}" from an empty mailbox`);
    } catch (error) {
      if (!(error instanceof IpcError) || error.code !== 'ETIMEDOUT') throw error;
      const waited = performance.now() - started;
      side.say(`caught IpcError with code "${error.code}" after ${ms(waited)}: no message in time`);
      side.tell('timed-out', Math.round(waited));
    }
    side.say(`receive({ timeout: ${PEER_TIMEOUT_MS} }) again`);
    side.tell('waiting');
    started = performance.now();
    const reply = await replies.receive({ timeout: PEER_TIMEOUT_MS });
    side.say(`got "${reply.data}" after ${ms(performance.now() - started)}: in time, no error`);
  },
};
