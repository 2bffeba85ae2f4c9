// 64 MiB from this process to a child and back through two pipes, checksummed on both
// sides: the child digests what it read, this process what came back. Writes and plain
// reads take seeded random sizes from 1 byte to 200 KiB, so the 64 KiB ring wraps at odd
// offsets and long writes go in pieces; once in the plain form (readBytes / writeBytes),
// once as streams (pipeline()).
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { pipe } from '../../src/index.ts';
import { chunkSizes, digestOf, parseDigestLine, receive, send, type Form } from '../helpers/pipe-common.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-transfer');

const TIMEOUT_MS = 240_000;
const BYTES = 64 * 1024 * 1024;
const data = randomBytes(BYTES);
const sent = digestOf(data);

for (const form of ['plain', 'stream'] as const satisfies readonly Form[]) {
  test(`64 MiB to a child process and back (${form} form), checksummed on both sides`, { timeout: TIMEOUT_MS }, async () => {
    const seed = randomInt(2 ** 31);
    const toChild = pipe();
    const fromChild = pipe();
    const child = startHelper('pipe-echo.ts', [form, String(seed + 1)], {
      extraStdio: [toChild.reader.fd, fromChild.writer.fd],
      timeoutMs: TIMEOUT_MS,
    });
    toChild.reader.handOff(child.child);
    fromChild.writer.handOff(child.child);
    const [, received] = await Promise.all([
      send(toChild.writer, data, form, chunkSizes(seed)),
      receive(fromChild.reader, form, chunkSizes(seed + 2)),
    ]);
    const echoed = parseDigestLine(await child.nextLine());
    await expectSuccess(child);
    assert.deepEqual(echoed, sent, `what the child read (seed ${seed})`);
    assert.deepEqual(received, sent, `what came back (seed ${seed})`);
  });
}
