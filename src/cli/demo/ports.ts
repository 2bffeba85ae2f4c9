// Scenario ports: indirect naming through a mailbox (any process that knows its name sends
// and receives) beside direct naming through a port (messages go to the one process that
// owns the number; nobody else can receive from it, and once it is closed senders are refused).
import { IpcError, Mailbox, Port } from '../../index.ts';
import { PEER_TIMEOUT_MS } from './peer-process.ts';
import type { Scenario } from './scenario.ts';

const LOBBY = 'lobby';
/** A send to a closed port is refused at once; this bounds it should it wait instead. */
const REFUSED_TIMEOUT_MS = 2_000;

export const ports: Scenario = {
  name: 'ports',
  title: 'ports vs mailboxes: direct vs indirect naming',
  lecture:
    '"Indirect naming: use mailboxes": send(Mailbox A, ...). "Ports: each port is associated with a single process ' +
    'only; a port is identified by a single integer number": send(port, ...).',

  async run(stage) {
    using lobby = Mailbox.create<string>(LOBBY);
    try {
      using port = Port.create<string>();
      stage.say(`created mailbox "${LOBBY}" (anyone with the name may use it) and port ${port.number} (only this process receives from it)`);
      await lobby.send(`my port is ${port.number}`, { timeout: PEER_TIMEOUT_MS });
      stage.say(`sent "my port is ${port.number}" to mailbox "${LOBBY}", for whoever receives it`);
      const peer = stage.startPeer('peer', [String(port.number)]);
      const message = await port.receive({ timeout: PEER_TIMEOUT_MS });
      stage.say(`port ${port.number} received "${message.data}" from pid ${message.from.pid}`);
      await peer.waitFor('sent');
      port.close();
      stage.say(`closed port ${port.number}`);
      peer.send('again');
      const [refusal = '?'] = await peer.waitFor('refused');
      await peer.finished();
      stage.result(
        `the mailbox was named, not owned: the peer received what the demo put in it. The port belonged to the demo: ` +
          `the peer could send to number ${port.number} but not receive from it (EADDRINUSE), and once it was closed ` +
          `a send to it failed with ${refusal}.`,
      );
    } finally {
      lobby.unlink();
    }
  },

  async peer(side, [numberText]) {
    const number = Number(numberText);
    {
      using lobby = Mailbox.open<string>(LOBBY);
      const note = await lobby.receive({ timeout: PEER_TIMEOUT_MS });
      side.say(`received "${note.data}" from mailbox "${LOBBY}" (indirect naming: it was sent to the mailbox, not to a process)`);
    }
    await Port.send(number, `hello from pid ${process.pid}`, { timeout: PEER_TIMEOUT_MS });
    side.say(`Port.send(${number}, ...): delivered to the process that owns port ${number} (direct naming)`);
    try {
      Port.create({ number }).close();
      throw new Error(`port ${number} could be taken from its owner`);
    } catch (error) {
      if (!(error instanceof IpcError) || error.code !== 'EADDRINUSE') throw error;
      side.say(`Port.create({ number: ${number} }) to receive from it: ${error.code}, it is another process's`);
    }
    side.tell('sent');
    await side.nextLine(); // the demo has closed its port
    try {
      await Port.send(number, 'still there?', { timeout: REFUSED_TIMEOUT_MS });
      throw new Error(`a send to closed port ${number} succeeded`);
    } catch (error) {
      if (!(error instanceof IpcError) || error.code !== 'ECONNREFUSED') throw error;
      side.say(`Port.send(${number}, ...) again: ${error.code}, nobody owns port ${number} now`);
      side.tell('refused', error.code);
    }
  },
};
