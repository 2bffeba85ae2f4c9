// A ring send changes the receivers' wake word (C_ITEMS_SEQ) only when a receiver may sleep:
// it publishes, then looks at C_WAITING_RECEIVERS (store-wake.ts states the ordering). Here
// a receiver's protocol (operations.ts receiveSteps) is driven step by step in one thread,
// so that each interleaving of the sender's publish and look with the receiver's count,
// load of the word and last poll happens exactly, not by chance: the receiver either finds
// the message or sleeps on a word the sender has changed — never asleep beside a message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { receiveSteps, type WaitRequest } from '../../src/channel/operations.ts';
import { ANY_SELECTOR } from '../../src/channel/selector.ts';
import { MessageStore, type Envelope } from '../../src/channel/store.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { WAIT_TIMED_OUT } from '../../src/core/wait.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('ring-wake-order');

const T = { timeout: 20_000 };
let unique = 0;

/** A ring-mode mailbox of bytes, and a store handle of its own on the same object, for driving a protocol by hand. */
function ringMailbox(): { mailbox: Mailbox<Uint8Array>; name: string; store: MessageStore } {
  const name = `order-${++unique}`;
  const mailbox = Mailbox.create<Uint8Array>(name, { codec: 'bytes', capacity: 8, maxMessageSize: 64 });
  const fd = openShm(`/${objectFileName('mailbox', name)}`, false, 0, name);
  let body: SharedArrayBuffer;
  try {
    body = mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, name).body;
  } finally {
    closeFd(fd);
  }
  const store = MessageStore.attach(body, () => false, `mailbox "${name}"`);
  assert.ok(store.ring?.active, 'the mailbox passes plain traffic through its ring');
  return { mailbox, name, store };
}

function cleanUp(mailbox: Mailbox<Uint8Array>, name: string): void {
  mailbox.close();
  Mailbox.unlink(name);
}

test('ring sends and receives with no receiver asleep leave the receivers\' wake word alone', T, () => {
  const { mailbox, name, store } = ringMailbox();
  try {
    const before = Atomics.load(store.words, L.C_ITEMS_SEQ);
    for (let i = 0; i < 100; i++) {
      assert.equal(mailbox.trySend(new Uint8Array([i])), true);
      assert.deepEqual(mailbox.tryReceive()?.data, new Uint8Array([i]));
    }
    assert.equal(Atomics.load(store.words, L.C_ITEMS_SEQ), before);
  } finally {
    cleanUp(mailbox, name);
  }
});

test('a receiver that polled the ring empty before the publish sleeps on a word the send has changed, then takes the message', T, () => {
  const { mailbox, name, store } = ringMailbox();
  try {
    const steps = receiveSteps(store, { selector: ANY_SELECTOR, deadline: performance.now() + 10_000, into: null, bells: false });
    // Counted as waiting, the word loaded, the ring polled empty: about to sleep.
    const first = steps.next();
    assert.equal(first.done, false);
    const sleep = first.value as WaitRequest;
    assert.equal(sleep.word, L.C_ITEMS_SEQ);
    assert.equal(Atomics.load(store.words, L.C_WAITING_RECEIVERS), 1);
    assert.equal(Atomics.load(store.words, sleep.word), sleep.expected, 'nothing changed the word yet');

    assert.equal(mailbox.trySend(new Uint8Array([42])), true);
    // Its futex wait (or doorbell wait) compares the word first: it must not sleep.
    assert.notEqual(Atomics.load(store.words, sleep.word), sleep.expected, 'the send changed the word the receiver sleeps on');

    // Woken (or not asleep at all): it looks again and takes the message.
    const done = steps.next(WAIT_TIMED_OUT);
    assert.equal(done.done, true);
    assert.deepEqual((done.value as Envelope).data, new Uint8Array([42]));
    assert.equal(Atomics.load(store.words, L.C_WAITING_RECEIVERS), 0);
  } finally {
    cleanUp(mailbox, name);
  }
});

test('a receiver that counts itself between the publish and the sender\'s look finds the message at its last poll', T, () => {
  const { mailbox, name, store } = ringMailbox();
  const original = MessageStore.prototype.wakeReceiversAfterPublish;
  let received: Envelope | undefined;
  let waitingSeen = -1;
  try {
    // The sender has published; before it looks at the waiting receivers, a receiver
    // comes, counts itself and polls a last time.
    MessageStore.prototype.wakeReceiversAfterPublish = function (this: MessageStore): void {
      MessageStore.prototype.wakeReceiversAfterPublish = original;
      const steps = receiveSteps(store, { selector: ANY_SELECTOR, deadline: performance.now() + 10_000, into: null, bells: false });
      const step = steps.next();
      assert.equal(step.done, true, 'the receiver does not go to sleep');
      received = step.value as Envelope;
      waitingSeen = Atomics.load(store.words, L.C_WAITING_RECEIVERS);
      original.call(this);
    };
    const before = Atomics.load(store.words, L.C_ITEMS_SEQ);
    assert.equal(mailbox.trySend(new Uint8Array([7])), true);
    assert.deepEqual(received?.data, new Uint8Array([7]));
    assert.equal(waitingSeen, 0, 'the receiver uncounted itself before the sender looked');
    assert.equal(Atomics.load(store.words, L.C_ITEMS_SEQ), before, 'nobody asleep: no bump');
    assert.equal(mailbox.tryReceive(), null);
  } finally {
    MessageStore.prototype.wakeReceiversAfterPublish = original;
    cleanUp(mailbox, name);
  }
});

test('a receiver asleep before the send is woken: the send bumps the word and wakes the futex', T, async () => {
  const { mailbox, name } = ringMailbox();
  try {
    const receiver = Mailbox.open<Uint8Array>(name);
    try {
      // Registers and sleeps synchronously within the call (spin: 0 never polls).
      const pending = receiver.receive({ spin: 0, timeout: 10_000 });
      assert.equal(mailbox.trySend(new Uint8Array([9])), true);
      assert.deepEqual((await pending).data, new Uint8Array([9]));
    } finally {
      receiver.close();
    }
  } finally {
    cleanUp(mailbox, name);
  }
});
