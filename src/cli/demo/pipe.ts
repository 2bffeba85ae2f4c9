// Scenario pipe: the lecture's "Using Unix Pipes" — the parent makes a pipe, starts a child,
// writes into one end; the child reads from the other end and prints what it read
// (examples/pipe-to-child.ts is the same program on its own).
import { pipe, PipeReader } from '../../index.ts';
import { count } from './narration.ts';
import { PEER_TIMEOUT_MS } from './peer-process.ts';
import type { Scenario } from './scenario.ts';

/** The child inherits the read end as this descriptor: the first after stdin, stdout, stderr. */
const CHILD_FD = 3;
/** The lecture's read(fd[0], buf, 80). */
const READ_BYTES = 80;

export const pipeToChild: Scenario = {
  name: 'pipe',
  title: 'a pipe to a child process',
  lecture:
    '"pipe(fd); pid = fork(); if (pid == 0) { read(fd[0], buf, 80); printf("%s\\n", buf); } else write(fd[1], argv[2], 80);"',

  async run(stage) {
    const { reader, writer } = pipe();
    try {
      stage.say(`pipe(): a read end and a write end over a ${count(writer.capacity)}-byte buffer (shared memory with no name: nothing in /dev/shm)`);
      // Node cannot fork() a running process: the child is a new Node process, and it gets
      // the read end as a forked child inherits fd[0].
      const child = stage.startPeer('child', [], { extraFds: [reader.fd] });
      reader.handOff(child.childProcess);
      stage.say(`started child ${child.pid} with the read end as its descriptor ${CHILD_FD} (Node cannot fork: a new process inherits it)`);
      const text = `hello, child ${child.pid}, from your parent ${process.pid}`;
      await writer.writeBytes(text, { timeout: PEER_TIMEOUT_MS });
      stage.say(`write(fd[1], "${text}")`);
      writer.close();
      stage.say('closed the write end');
      await child.finished();
      stage.result('the bytes written into one end came out of the other end, in another process, in order; closing the write end gave the reader end of file.');
    } finally {
      writer.close();
      reader.close();
    }
  },

  async peer(side) {
    const reader = PipeReader.adopt(CHILD_FD);
    try {
      const buf = await reader.readBytes(READ_BYTES, { timeout: PEER_TIMEOUT_MS });
      side.say(`read(fd[0], buf, ${READ_BYTES}): "${buf === null ? '' : new TextDecoder().decode(buf)}"`);
      const next = await reader.readBytes(READ_BYTES, { timeout: PEER_TIMEOUT_MS });
      side.say(next === null ? 'read again: end of file (the parent closed its end)' : `read again: "${new TextDecoder().decode(next)}"`);
    } finally {
      reader.close();
    }
  },
};
