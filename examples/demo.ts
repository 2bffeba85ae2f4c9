// npm start: two real processes share one segment of POSIX shared memory and a Mutex.
//
// The parent creates the segment, lays a Mutex, a Condition and a counter in it, and
// starts a second Node process that opens the segment by name. Both add to the counter
// under the Mutex, then the parent hands the child a message through the Condition.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Condition, Mutex, SharedMemory } from '../src/index.ts';

// Layout of the demo's segment: a Mutex, a Condition, then plain Int32 cells.
const MUTEX_AT = 0;
const CONDITION_AT = Mutex.BYTES;
const CELLS_AT = CONDITION_AT + Condition.BYTES;
const COUNTER = 0; // cells[0]: incremented by both processes under the Mutex
const READY = 1; // cells[1]: 1 once the message is in place
const MESSAGE_LENGTH = 2; // cells[2]: byte length of the message
const ATTACHED = 3; // cells[3]: 1 once the child has opened the segment
const MESSAGE_AT = CELLS_AT + 16;
const ROUNDS = 5;

const role = process.argv[2] === 'child' ? 'child ' : 'parent';
const log = (text: string): void => console.log(`[${role} ${process.pid}] ${text}`);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function view(segment: SharedMemory) {
  return {
    mutex: new Mutex(segment.buffer, MUTEX_AT),
    condition: new Condition(segment.buffer, CONDITION_AT),
    cells: new Int32Array(segment.buffer, CELLS_AT, 4),
    bytes: new Uint8Array(segment.buffer, MESSAGE_AT),
  };
}

async function addRounds(segment: SharedMemory): Promise<void> {
  const { mutex, cells } = view(segment);
  for (let round = 1; round <= ROUNDS; round++) {
    await mutex.lock();
    const before = cells[COUNTER]!;
    cells[COUNTER] = before + 1;
    log(`holds the mutex: counter ${before} -> ${before + 1}`);
    mutex.unlock();
    await pause(20); // let the other process take a turn, so the interleaving shows
  }
}

async function child(name: string): Promise<void> {
  using segment = SharedMemory.open(name);
  log(`opened shared memory "${name}" (${segment.size} bytes, created by pid ${segment.creatorPid})`);
  const { mutex, condition, cells, bytes } = view(segment);
  await mutex.lock();
  cells[ATTACHED] = 1;
  condition.notifyAll();
  mutex.unlock();
  await addRounds(segment);
  await mutex.lock();
  while (cells[READY] === 0) {
    log('waits on the condition for a message (no polling: asleep in the kernel)');
    await condition.wait(mutex);
  }
  const message = new TextDecoder().decode(bytes.slice(0, cells[MESSAGE_LENGTH]));
  mutex.unlock();
  log(`received through shared memory: "${message}"`);
}

async function parent(): Promise<void> {
  process.env.INTERPROC_NAMESPACE ??= `demo-${process.pid}`;
  const name = 'demo-segment';
  using segment = SharedMemory.create(name, 4096);
  try {
    log(`created shared memory "${name}" in namespace "${process.env.INTERPROC_NAMESPACE}"`);
    const script = fileURLToPath(import.meta.url);
    const other = spawn(process.execPath, [...process.execArgv, script, 'child', name], { stdio: 'inherit' });
    const exited = new Promise<number | null>((resolve) => other.on('exit', resolve));
    const { mutex, condition, cells, bytes } = view(segment);
    await mutex.lock();
    while (cells[ATTACHED] === 0) {
      log(`started child ${other.pid}; waits on the condition until it has opened the segment`);
      await condition.wait(mutex);
    }
    mutex.unlock();
    await addRounds(segment);
    const encoded = new TextEncoder().encode(`hello from process ${process.pid}`);
    await mutex.lock();
    bytes.set(encoded);
    cells[MESSAGE_LENGTH] = encoded.length;
    cells[READY] = 1;
    log('wrote a message and notifies the condition');
    condition.notify();
    mutex.unlock();
    const code = await exited;
    log(`child exited with code ${code}; counter is ${cells[COUNTER]} (${ROUNDS} from each process)`);
  } finally {
    segment.unlink();
  }
}

if (role === 'child ') await child(process.argv[3]!);
else await parent();
