// Entry point of a demo peer process: `node peer.ts SCENARIO ARGS...` runs that scenario's
// `peer` side (DemoStage.startPeer starts it, in the run's namespace: INTERPROC_NAMESPACE).
// It talks to the demo process over its standard output — narration lines, and events that
// start with EVENT_MARK — and reads the demo's lines from its standard input.
import { createInterface, type Interface } from 'node:readline';
import { EVENT_MARK, PEER_TIMEOUT_MS } from './peer-process.ts';
import type { PeerSide } from './scenario.ts';
import { SCENARIOS } from './scenarios.ts';

// Made on first use: an open standard input would keep a peer that never reads it alive.
let input: { lines: Interface; iterator: AsyncIterator<string> } | null = null;

function closeInput(): void {
  input?.lines.close();
}

const side: PeerSide = {
  say(text) {
    process.stdout.write(`${text}\n`);
  },
  tell(event, ...values) {
    process.stdout.write(`${EVENT_MARK}${[event, ...values].join(' ')}\n`);
  },
  async nextLine(timeoutMs = PEER_TIMEOUT_MS) {
    if (input === null) {
      const lines = createInterface({ input: process.stdin });
      input = { lines, iterator: lines[Symbol.asyncIterator]() };
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no word from the demo within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const next = await Promise.race([input.iterator.next(), late]);
      if (next.done === true) throw new Error('the demo closed its end (it has exited)');
      return next.value;
    } finally {
      clearTimeout(timer);
    }
  },
};

const [name = '', ...args] = process.argv.slice(2);
try {
  const scenario = SCENARIOS.find((candidate) => candidate.name === name);
  if (scenario?.peer === undefined) throw new Error(`no demo scenario "${name}" with a peer side`);
  await scenario.peer(side, args);
  closeInput();
} catch (error) {
  // One line, as the demo shows it: a stack trace says nothing to someone watching a demo.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
