// Message passing with a mailbox between two processes: the parent asks, a child answers.
// The parent creates two mailboxes, "requests" and "replies" (names a process that knows
// them can open; here the child gets them as arguments), starts the child, sends it three
// requests and prints each reply with the pid of the process that sent it.
//
//   node --import tsx examples/mailbox-two-processes.ts
//
// Plain try/finally rather than `using`, so that the same code also runs as JavaScript on
// Node 20 and 22, which do not have `using`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Mailbox } from 'interproc';

interface Request {
  text: string;
}
interface Reply {
  text: string;
  length: number;
}

/** Every receive gives up after this long, so that a child that died cannot hang the parent. */
const TIMEOUT_MS = 10_000;

if (process.argv[2] === '--child') {
  // Child process: answers requests until it gets the one of type 2, "stop".
  const [requestsName, repliesName] = process.argv.slice(3) as [string, string];
  const requests = Mailbox.open<Request>(requestsName);
  const replies = Mailbox.open<Reply>(repliesName);
  try {
    for (;;) {
      const request = await requests.receive({ timeout: TIMEOUT_MS });
      if (request.type === 2) break;
      await replies.send({ text: request.data.text.toUpperCase(), length: request.data.text.length });
    }
  } finally {
    requests.close();
    replies.close();
  }
} else {
  // Parent process: makes the mailboxes, starts the child, asks and prints the answers.
  const requestsName = `example-requests-${process.pid}`;
  const repliesName = `example-replies-${process.pid}`;
  const requests = Mailbox.create<Request>(requestsName, { capacity: 8, codec: 'json' });
  const replies = Mailbox.create<Reply>(repliesName, { capacity: 8, codec: 'json' });
  try {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', requestsName, repliesName], {
      stdio: 'inherit',
    });
    const exited = once(child, 'exit');
    for (const text of ['hello', 'from the parent', 'through a mailbox']) {
      await requests.send({ text }, { type: 1 });
      const reply = await replies.receive({ timeout: TIMEOUT_MS });
      console.log(`parent ${process.pid} sent "${text}"; child ${reply.from.pid} replied "${reply.data.text}" (${reply.data.length} characters)`);
    }
    await requests.send({ text: 'stop' }, { type: 2 });
    const [code] = (await exited) as [number | null];
    console.log(`child exited with code ${code}`);
    if (code !== 0) process.exitCode = 1;
  } finally {
    // Removing the names leaves nothing in /dev/shm; the handles are closed after.
    Mailbox.unlink(requestsName);
    Mailbox.unlink(repliesName);
    requests.close();
    replies.close();
  }
}
