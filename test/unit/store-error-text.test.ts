// What a full store's errors say: the object the caller named when it attached the store
// ('mailbox "<name>"'), on the ring's path and on the list's, for a send that may not wait
// (whenFull 'fail': EAGAIN) and one whose time ran out (timeout 0: ETIMEDOUT), async and sync.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { IpcError, type MailboxOptions } from '../../src/index.ts';
import { openRingView } from '../helpers/ring-white-box.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('store-error-text');

const T = { timeout: 20_000 };
const BYTES = 'bytes' as const;

function names(code: string, name: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof IpcError, `expected an IpcError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.ok(error.message.includes(`mailbox "${name}"`), `"${error.message}" does not name mailbox "${name}"`);
    return true;
  };
}

const PATHS: Array<{ path: string; mode: number; options: MailboxOptions<Uint8Array> }> = [
  { path: 'the ring', mode: L.MODE_RING, options: { capacity: 1, maxMessageSize: 16, codec: BYTES } },
  // Slots of 32 MiB would pass MAX_RING_BYTES: no ring, the list from the start.
  { path: 'the list', mode: L.MODE_LIST, options: { capacity: 1, maxMessageSize: 32 * 1024 * 1024, codec: BYTES } },
];

for (const { path, mode, options } of PATHS) {
  test(`a full store's errors name the object (${path})`, T, async () => {
    for (const whenFull of ['fail', 'block'] as const) {
      await withMailbox<Uint8Array>('full', { ...options, whenFull }, async (mb, name) => {
        assert.equal(openRingView(name).i32[L.C_MODE], mode, `the store is not in the mode ${path} needs`);
        await mb.send(new Uint8Array(4));
        const code = whenFull === 'fail' ? 'EAGAIN' : 'ETIMEDOUT';
        await assert.rejects(mb.send(new Uint8Array(4), { timeout: 0 }), names(code, name));
        assert.throws(() => mb.sendSync(new Uint8Array(4), { timeout: 0 }), names(code, name));
      });
    }
  });
}
