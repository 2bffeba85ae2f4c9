// send() and receive() without options take a shorter way when there is room or a message
// now (no request is built): these check that the shorter way keeps the calls' promises —
// zero capacity still waits for a taker, failures are rejections, and a call that finds
// nothing now still waits as the whole call does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IpcError, Mailbox } from '../../src/index.ts';
import { state, waitingReceivers, waitingSenders } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';
import { withMailbox } from '../support/mailbox.ts';

useNamespace('mailbox-plain-calls');

const T = { timeout: 10_000 };

function code(expected: string): (error: unknown) => boolean {
  return (error: unknown) => (error as { code?: unknown }).code === expected;
}

test('zero capacity: send() without options resolves only once a receiver took the message, even with one waiting', T, async () => {
  await withMailbox<string>('plain', { capacity: 0, codec: 'utf8' }, async (mb, name) => {
    using receiver = Mailbox.open<string>(name);
    const giveUp = new AbortController();
    const first = receiver.receive({ signal: giveUp.signal });
    await waitingReceivers(mb, 1);
    // A receiver waits now; it gives up before it runs again, so it never takes the message.
    const sent = mb.send('for whoever takes it');
    giveUp.abort();
    await assert.rejects(first, code('ABORT_ERR'));
    assert.equal(await state(sent), 'pending', 'nobody has taken the message');
    assert.equal((await receiver.receive()).data, 'for whoever takes it');
    await sent;
    assert.equal(mb.stats().messages, 0);
  });
});

test('send() without options waits for room in a full mailbox and sends once a receive makes some', T, async () => {
  await withMailbox<string>('plain', { capacity: 2, codec: 'utf8' }, async (mb) => {
    await mb.send('a');
    await mb.send('b');
    const third = mb.send('c');
    await waitingSenders(mb, 1);
    assert.equal(await state(third), 'pending');
    assert.equal((await mb.receive()).data, 'a');
    await third;
    assert.deepEqual([(await mb.receive()).data, (await mb.receive()).data], ['b', 'c']);
  });
});

test('receive() without options waits for a message when there is none, and takes one there at once', T, async () => {
  await withMailbox<string>('plain', { capacity: 4, codec: 'utf8' }, async (mb, name) => {
    const waiting = mb.receive();
    await waitingReceivers(mb, 1);
    assert.equal(await state(waiting), 'pending');
    using sender = Mailbox.open<string>(name);
    await sender.send('late');
    assert.equal((await waiting).data, 'late');
    await sender.send('early');
    const message = await mb.receive();
    assert.deepEqual([message.data, message.type, message.from.pid], ['early', 0, process.pid]);
  });
});

test('send() and receive() without options reject (never throw) on a closed handle, a full mailbox that fails, and bad values', T, async () => {
  await withMailbox<string>('plain', { capacity: 1, codec: 'utf8', whenFull: 'fail', maxMessageSize: 8 }, async (mb, name) => {
    await mb.send('fits');
    const full = mb.send('no room');
    await assert.rejects(full, code('EAGAIN'));
    const tooLong = mb.send('longer than eight bytes');
    await assert.rejects(tooLong, code('EMSGSIZE'));
    const notAString = mb.send(42 as unknown as string);
    await assert.rejects(notAString, (error: unknown) => error instanceof TypeError);
    assert.deepEqual([(await mb.receive()).data, mb.stats().messages], ['fits', 0]);

    const other = Mailbox.open<string>(name);
    other.close();
    const sent = other.send('closed');
    const received = other.receive();
    await assert.rejects(sent, (error: unknown) => error instanceof IpcError && error.code === 'EBADF');
    await assert.rejects(received, (error: unknown) => error instanceof IpcError && error.code === 'EBADF');
  });
});
