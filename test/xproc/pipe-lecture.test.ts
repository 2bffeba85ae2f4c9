// The lecture's pipe example: the parent makes a pipe and starts a child; the child
// reads from the pipe and prints what it read, the parent writes its message into it.
//
//   pipe(fd); pid = fork();
//   if (pid == 0) { read(fd[0], buf, 80); printf("%s\n", buf); }   // child: receiver
//   else write(fd[1], argv[2], 80);                                 // parent: sender
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pipe } from '../../src/index.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-lecture');

test("the lecture's example: the parent writes, the child reads and prints", { timeout: 60_000 }, async () => {
  const message = `hello from parent ${process.pid}`;
  const { reader, writer } = pipe();
  const child = startHelper('pipe-print.ts', [], { extraStdio: [reader.fd], timeoutMs: 60_000 });
  reader.handOff(child.child);
  await writer.writeBytes(message);
  writer.close();
  assert.equal(await child.nextLine(), message);
  await expectSuccess(child);
});
