// Options objects with a name the call does not take: TypeError ERR_INVALID_ARG_VALUE that
// names the unknown option and the known ones, and nothing done — a misspelt create option
// makes no object, a misspelt selector takes no message. One call of every mechanism's
// create/open, send, receive and wait that takes options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Condition, Mailbox, MessageQueue, Mutex, Port, Semaphore, SharedMemory, openFifo, pipe } from '../../src/index.ts';
import { planBridge } from '../../src/bridge/bridge-options.ts';
import { ipcError } from '../support/errors.ts';
import { usePortNamespace } from '../support/port-table.ts';

usePortNamespace('unknown-options');

const T = { timeout: 20_000 };

/** The error of an unknown option `key`, listing `known` among the known ones. */
function unknownOption(key: string, known: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof TypeError, String(error));
    assert.equal((error as { code?: unknown }).code, 'ERR_INVALID_ARG_VALUE', String(error));
    assert.match(error.message, new RegExp(`unknown option "${key}"`));
    assert.match(error.message, new RegExp(`Known options: .*'${known}'`));
    return true;
  };
}

/** Options with a name no call takes, typed as any call's options. */
function misspelt<K extends string>(key: K, extra: object = {}): never {
  return { ...extra, [key]: 1 } as never;
}

test('a misspelt create option makes nothing; a misspelt selector takes nothing', T, () => {
  assert.throws(() => Mailbox.create('typo', misspelt('capcity')), unknownOption('capcity', 'capacity'));
  assert.throws(() => Mailbox.open('typo'), ipcError('ENOENT'));
  using mailbox = Mailbox.create<string>('typo', { codec: 'utf8' });
  try {
    mailbox.trySend('kept', { type: 2 });
    assert.throws(() => mailbox.tryReceive(misspelt('tipe')), unknownOption('tipe', 'type'));
    assert.throws(() => mailbox.tryReceiveMany(4, misspelt('tipe')), unknownOption('tipe', 'notType'));
    assert.equal(mailbox.stats().messages, 1);
    // Known names stay accepted, undefined values included.
    assert.equal(mailbox.tryReceive({ type: 1, into: undefined }), null);
    assert.equal(mailbox.tryReceive({ type: 2 })?.data, 'kept');
  } finally {
    mailbox.unlink();
  }
});

test('every mechanism refuses an unknown option name, in its create/open and per-call options', T, async () => {
  using mailbox = Mailbox.create<string>('calls', { codec: 'utf8', capacity: 4 });
  using segment = SharedMemory.create('segment', 64);
  using queue = MessageQueue.open(7, { create: true, exclusive: true });
  using port = Port.create<string>({ codec: 'utf8' });
  const { reader, writer } = pipe();
  try {
    const mutex = new Mutex(segment.buffer, 0);
    const semaphore = new Semaphore(segment.buffer, 8, 1);
    const condition = new Condition(segment.buffer, 16);
    const calls: Array<[string, string, () => unknown]> = [
      ['Mailbox.open', 'trustedUids', () => Mailbox.open('calls', misspelt('trusted'))],
      ['send', 'timeout', () => mailbox.send('x', misspelt('timout'))],
      ['trySend', 'origin', () => mailbox.trySend('x', misspelt('tpye'))],
      ['sendSync', 'sync', () => mailbox.sendSync('x', misspelt('signal'))],
      ['trySendMany', 'type', () => mailbox.trySendMany(['x'], misspelt('tpye'))],
      ['sendMany', 'signal', () => mailbox.sendMany(['x'], misspelt('sync'))],
      ['receive', 'spin', () => mailbox.receive(misspelt('timout', { timeout: 0 }))],
      ['receiveSync', 'maxType', () => mailbox.receiveSync(misspelt('signal', { timeout: 0 }))],
      ['receiveMany', 'from', () => mailbox.receiveMany(2, misspelt('form', { timeout: 0 }))],
      ['tryPeekMany', 'afterSeq', () => mailbox.tryPeekMany(2, misspelt('after'))],
      ['peekMany', 'timeout', () => mailbox.peekMany(2, misspelt('after', { timeout: 0 }))],
      ['SharedMemory.create', 'mode', () => SharedMemory.create('segment2', 8, misspelt('mod'))],
      ['SharedMemory.open', 'trustedUids', () => SharedMemory.open('segment', misspelt('mode'))],
      ['SharedMemory.openOrCreate', 'mode', () => SharedMemory.openOrCreate('segment', 64, misspelt('trusted'))],
      ['MessageQueue.open', 'exclusive', () => MessageQueue.open(8, misspelt('exclusve', { create: true }))],
      ['queue.send', 'nowait', () => queue.send(1, 'x', misspelt('noWait'))],
      ['queue.receive', 'noError', () => queue.receive(misspelt('noWait', { nowait: true }))],
      ['queue.receiveMany', 'except', () => queue.receiveMany(2, misspelt('maxSize', { nowait: true }))],
      ['queue.set', 'maxBytes', () => queue.set(misspelt('maxbytes'))],
      ['Port.create', 'capacity', () => Port.create(misspelt('capcity'))],
      ['Port.send', 'codec', () => Port.send(port.number, 'x', misspelt('tpye'))],
      ['Port.trySend', 'type', () => Port.trySend(port.number, 'x', misspelt('tpye'))],
      ['port.tryReceive', 'into', () => port.tryReceive(misspelt('tipe'))],
      ['port.receive', 'timeout', () => port.receive(misspelt('tipe', { timeout: 0 }))],
      ['pipe', 'capacity', () => pipe(misspelt('size'))],
      ['readBytes', 'into', () => reader.readBytes(8, misspelt('timout', { timeout: 0 }))],
      ['readBytesSync', 'timeout', () => reader.readBytesSync(8, misspelt('signal', { timeout: 0 }))],
      ['tryReadBytes', 'into', () => reader.tryReadBytes(8, misspelt('buffer'))],
      ['writeBytes', 'signal', () => writer.writeBytes('x', misspelt('timout'))],
      ['writeBytesSync', 'timeout', () => writer.writeBytesSync('x', misspelt('signal'))],
      ['openFifo', 'keepOpen', () => openFifo('/nonexistent/fifo', 'r', misspelt('keepopen'))],
      ['Mutex.lock', 'signal', () => mutex.lock(misspelt('timout'))],
      ['Mutex.lockSync', 'timeout', () => mutex.lockSync(misspelt('signal'))],
      ['Semaphore.wait', 'timeout', () => semaphore.wait(misspelt('timout'))],
      ['Semaphore.waitSync', 'timeout', () => semaphore.waitSync(misspelt('timout'))],
      ['Condition.wait', 'signal', () => condition.wait(mutex, misspelt('timout'))],
      ['Condition.waitSync', 'timeout', () => condition.waitSync(mutex, misspelt('timout'))],
      ['Bridge options', 'servers', () => planBridge(misspelt('server', { servers: ['nats://127.0.0.1:4222'], imports: ['a'] }))],
      ['Bridge options.retry', 'maxDelay', () => planBridge({ servers: ['nats://127.0.0.1:4222'], imports: ['a'], retry: misspelt('maxdelay') })],
    ];
    for (const [what, known, call] of calls) {
      const key = /unknown option "([^"]+)"/;
      let failure: unknown = null;
      try {
        await call();
      } catch (error) {
        failure = error;
      }
      assert.ok(failure !== null, `${what}: accepted an unknown option`);
      const named = key.exec(String((failure as Error).message))?.[1] ?? '(none)';
      assert.ok(unknownOption(named, known)(failure), what);
    }
    // Nothing was sent, taken or made meanwhile.
    assert.equal(mailbox.stats().messages, 0);
    assert.equal(queue.stat().messages, 0);
    assert.throws(() => SharedMemory.open('segment2'), ipcError('ENOENT'));
    assert.throws(() => MessageQueue.open(8), ipcError('ENOENT'));
    assert.equal(mutex.tryLock(), true);
    mutex.unlock();
  } finally {
    reader.destroy();
    writer.destroy();
    port.close();
    queue.remove();
    segment.unlink();
    mailbox.unlink();
  }
});
