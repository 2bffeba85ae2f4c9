// Scenario message-queue: the lecture's post-office example on a System V message queue.
// The demo process is P_A; P_C and P_B are peer processes. The lecture's steps 1-5, then
// P_A takes what is left.
import { MessageQueue } from '../../index.ts';
import { PEER_TIMEOUT_MS } from './peer-process.ts';
import type { Scenario } from './scenario.ts';

const QUEUE = 'post-office';
/** The lecture's "type 0": msgsnd wants types above 0, so the ordinary messages are type 2. */
const ORDINARY = 2;
const URGENT = 1;

const text = (data: Uint8Array): string => new TextDecoder().decode(data);

export const messageQueue: Scenario = {
  name: 'message-queue',
  title: 'a message queue with types (msgsnd / msgrcv)',
  lecture:
    '"A message queue is a repository for named messages ... removed in any order based on their name." ' +
    'P_A creates a queue; P_A, P_C and P_B send; P_B receives the first type-1 message.',

  async run(stage) {
    using queue = MessageQueue.open(QUEUE, { create: true, exclusive: true });
    try {
      // Both start now (a process takes a moment to start) and wait for their turn.
      const pC = stage.startPeer('P_C', ['P_C']);
      const pB = stage.startPeer('P_B', ['P_B']);
      stage.say(`1) P_A (this process) created message queue "${QUEUE}": empty`);
      await queue.send(ORDINARY, 'from P_A', { timeout: PEER_TIMEOUT_MS });
      stage.say(`2) P_A sent "from P_A", type ${ORDINARY} (the lecture's type 0: here types are > 0, as msgsnd wants)`);
      await pC.waitFor('ready');
      pC.send('go');
      await pC.waitFor('sent');
      await pB.waitFor('ready');
      pB.send('go');
      const [takenFrom = '?'] = await pB.waitFor('received');
      const left = queue.stat().messages;
      const rest: string[] = [];
      for (let i = 0; i < left; i++) {
        const message = await queue.receive({ nowait: true });
        rest.push(`"${text(message.data)}" (type ${message.type})`);
      }
      stage.say(`P_A: ${left} messages left; receive() (type 0: the first of any type) takes ${rest.join(', then ')}`);
      await Promise.all([pC.finished(), pB.finished()]);
      stage.result(
        `P_B's receive({ type: ${URGENT} }) searched the list and took P_C's message (sent by pid ${takenFrom}) from ` +
          'between the others, which kept their order: a list, not a queue in the data-structure sense.',
      );
    } finally {
      queue.remove();
    }
  },

  async peer(side, [role]) {
    using queue = MessageQueue.open(QUEUE);
    side.tell('ready');
    await side.nextLine(); // the demo's turn for this process
    if (role === 'P_C') {
      await queue.send(URGENT, 'from P_C', { timeout: PEER_TIMEOUT_MS });
      side.say(`3) P_C sent "from P_C", type ${URGENT}`);
      side.tell('sent');
      return;
    }
    await queue.send(ORDINARY, 'from P_B', { timeout: PEER_TIMEOUT_MS });
    side.say(`4) P_B sent "from P_B", type ${ORDINARY}`);
    const message = await queue.receive({ type: URGENT, timeout: PEER_TIMEOUT_MS });
    side.say(`5) P_B: receive({ type: ${URGENT} }) took the first type-${URGENT} message: "${text(message.data)}" from pid ${message.from}`);
    side.tell('received', message.from);
  },
};
