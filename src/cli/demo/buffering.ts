// Scenario buffering: the lecture's three kinds of buffering, with a peer process as the
// receiver: zero capacity (a send is a rendezvous with a receiver), bounded capacity (full:
// the send blocks, or fails with whenFull 'fail') and unbounded capacity (nothing waits).
import { IpcError, Mailbox } from '../../index.ts';
import { count, ms } from './narration.ts';
import { PEER_TIMEOUT_MS } from './peer-process.ts';
import type { Scenario } from './scenario.ts';

const ZERO = 'rendezvous';
const BOUNDED = 'bounded';
const FAILING = 'bounded-fail';
const UNBOUNDED = 'unbounded';
const BOUND = 3;
const UNBOUNDED_MESSAGES = 10_000;
/** How long the peer lets a waiting send wait before it receives, so that the wait shows. */
const LATE_MS = 300;

export const buffering: Scenario = {
  name: 'buffering',
  title: 'zero, bounded and unbounded buffering',
  lecture:
    '"Zero capacity: must be listening when a message comes in. Bounded capacity: be careful when queue gets full ' +
    '(make the send call fail, or block). Unbounded capacity: no limit."',

  async run(stage) {
    const made: Mailbox<unknown>[] = [];
    const create = <T>(name: string, options: Parameters<typeof Mailbox.create<T>>[1]): Mailbox<T> => {
      const box = Mailbox.create<T>(name, options);
      made.push(box as Mailbox<unknown>);
      return box;
    };
    try {
      const peer = stage.startPeer('peer', []);
      /** The peer receives `messages` from mailbox `name`, after `lateMs`; resolves when it has. */
      const peerReceives = async (name: string, messages: number, lateMs = 0): Promise<void> => {
        peer.send(`${name} ${messages} ${lateMs}`);
        await peer.waitFor('received');
      };

      const zero = create<string>(ZERO, { capacity: 0 });
      stage.say(`mailbox "${ZERO}", capacity 0: trySend("anyone?") returned ${zero.trySend('anyone?')}: nobody is receiving, and it keeps nothing`);
      await peer.waitFor('ready');
      let started = performance.now();
      stage.say(`send("hello") waits for a receiver; the peer receives in ${LATE_MS} ms`);
      // Together, so that either one failing is seen (and the other's failure is not left unhandled).
      await Promise.all([zero.send('hello', { timeout: PEER_TIMEOUT_MS }), peerReceives(ZERO, 1, LATE_MS)]);
      const rendezvousMs = performance.now() - started;
      stage.say(`send() returned after ${ms(rendezvousMs)}, when the peer took the message: a rendezvous`);

      const bounded = create<string>(BOUNDED, { capacity: BOUND });
      const accepted = ['1', '2', '3', '4'].map((text) => bounded.trySend(text));
      stage.say(`mailbox "${BOUNDED}", capacity ${BOUND}: trySend of 4 messages returned ${accepted.join(', ')}: full after ${BOUND}`);
      started = performance.now();
      stage.say(`send("4") blocks (whenFull: 'block', the default) until there is room; the peer receives in ${LATE_MS} ms`);
      await Promise.all([bounded.send('4', { timeout: PEER_TIMEOUT_MS }), peerReceives(BOUNDED, 1, LATE_MS)]);
      const blockedMs = performance.now() - started;
      stage.say(`send() returned after ${ms(blockedMs)}, once the peer had taken one; ${bounded.stats().messages} buffered`);

      const failing = create<string>(FAILING, { capacity: BOUND, whenFull: 'fail' });
      for (const text of ['1', '2', '3']) await failing.send(text);
      let failure = 'no error';
      try {
        await failing.send('4');
      } catch (error) {
        if (!(error instanceof IpcError) || error.code !== 'EAGAIN') throw error;
        failure = error.code;
      }
      stage.say(`mailbox "${FAILING}", capacity ${BOUND}, whenFull: 'fail': 3 sends, and the 4th failed at once: ${failure}`);
      if (failure !== 'EAGAIN') throw new Error(`a send to a full mailbox with whenFull 'fail' did not fail`);

      const unbounded = create<number>(UNBOUNDED, { capacity: Infinity });
      started = performance.now();
      for (let i = 0; i < UNBOUNDED_MESSAGES; i++) await unbounded.send(i);
      const { messages, bytes } = unbounded.stats();
      stage.say(
        `mailbox "${UNBOUNDED}", capacity Infinity: ${count(UNBOUNDED_MESSAGES)} sends in ${ms(performance.now() - started)}, ` +
          `never full: ${count(messages)} messages (${count(bytes)} bytes) buffered, nobody receiving yet`,
      );
      await peerReceives(UNBOUNDED, UNBOUNDED_MESSAGES);
      peer.send('done');
      await peer.finished();
      stage.result(
        `capacity 0: the send waited ${ms(rendezvousMs)} for its receiver; capacity ${BOUND}: the 4th send blocked ` +
          `${ms(blockedMs)}, or failed with EAGAIN; capacity Infinity: ${count(UNBOUNDED_MESSAGES)} sends, never full.`,
      );
    } finally {
      for (const box of made) {
        box.unlink();
        box.close();
      }
    }
  },

  async peer(side) {
    side.tell('ready');
    // Commands from the demo: "NAME COUNT LATE_MS" receives COUNT messages from mailbox NAME
    // after LATE_MS; "done" ends.
    for (;;) {
      const [name = '', messages = '0', lateMs = '0'] = (await side.nextLine()).split(' ');
      if (name === 'done') return;
      await new Promise((resolve) => setTimeout(resolve, Number(lateMs)));
      using box = Mailbox.open<unknown>(name);
      const expected = Number(messages);
      if (expected === 1) {
        const { data } = await box.receive({ timeout: PEER_TIMEOUT_MS });
        side.say(`received "${String(data)}" from mailbox "${name}"`);
      } else {
        const started = performance.now();
        let inOrder = true;
        for (let i = 0; i < expected; i++) {
          const { data } = await box.receive({ timeout: PEER_TIMEOUT_MS });
          if (data !== i) inOrder = false;
        }
        side.say(`received ${count(expected)} messages from mailbox "${name}" in ${ms(performance.now() - started)}, ${inOrder ? 'in the order sent' : 'OUT OF ORDER'}`);
      }
      side.tell('received');
    }
  },
};
