// The lecture's "Using Unix Pipes": the parent makes a pipe, starts a child, writes into
// one end; the child reads from the other end and prints what it read.
//
//   node --import tsx examples/pipe-to-child.ts 'hello, child'
//
// Node cannot fork() a running process; the child is a new Node process running this same
// file, and it inherits the pipe's descriptor as fd 3 (spawn's stdio), as a forked C child
// inherits fd[0].
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pipe, PipeReader } from 'interproc';

if (process.argv[2] === '--child') {
  // Child process - receiver.
  const reader = PipeReader.adopt(3);
  const buf = await reader.readBytes(80);
  console.log(buf === null ? '(end of file)' : Buffer.from(buf).toString());
  reader.close();
} else {
  // Parent process - sender.
  const { reader, writer } = pipe();
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child'], {
    stdio: ['inherit', 'inherit', 'inherit', reader.fd],
  });
  reader.handOff(child); // the child's now: the parent keeps only the write end
  await writer.writeBytes(process.argv[2] ?? 'hello through a pipe');
  writer.close();
}
