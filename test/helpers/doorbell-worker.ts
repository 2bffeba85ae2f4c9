// A worker thread with a doorbell (run with test/support/worker.ts). Posts "tid <kernel
// thread id>" first, then obeys messages:
//   "wait <token>"       -> "waiting <token>" once registered, "woken <token> <result>" later
//   "ring <tid> <token>" -> "rang <true|false>"
//   "hold <n>"           -> registers n referenced bell waits nobody will ring, "holding <n>"
//   "echo"               -> every ring delivered from now on is answered by a ring of the
//                           worker's own bell (keeps datagrams arriving while it is torn
//                           down); "echoing"
import { parentPort } from 'node:worker_threads';
import { newBellToken, openDoorbell, ringBell, waitBell } from '../../src/core/doorbell.ts';

const port = parentPort!;
const tid = openDoorbell();
port.postMessage(`tid ${tid}`);
const words = new Int32Array(new SharedArrayBuffer(4)); // never changes: only rings end waits

function echo(token: number): void {
  void waitBell(token, words, 0, 0).then(() => {
    ringBell(tid!, token);
    echo(token);
  });
}

port.on('message', (message: string) => {
  const [command, ...rest] = message.split(' ');
  const numbers = rest.map(Number);
  if (command === 'wait') {
    const token = numbers[0]!;
    void waitBell(token, words, 0, 0).then((result) => port.postMessage(`woken ${token} ${result}`));
    port.postMessage(`waiting ${token}`);
  } else if (command === 'ring') {
    port.postMessage(`rang ${ringBell(numbers[0]!, numbers[1]!)}`);
  } else if (command === 'hold') {
    for (let i = 0; i < numbers[0]!; i++) void waitBell(newBellToken(), words, 0, 0);
    port.postMessage(`holding ${numbers[0]}`);
  } else if (command === 'echo') {
    const token = newBellToken();
    echo(token);
    ringBell(tid!, token);
    port.postMessage('echoing');
  }
});
