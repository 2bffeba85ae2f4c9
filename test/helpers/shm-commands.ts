// The command language of the shared-memory peers (shm-peer.ts in a process, shm-worker.ts
// in a worker thread): the test drives a peer one line at a time and each command answers
// with one line, so every read and write is ordered by a handshake, never by a sleep.
//   read <i>         -> "value <u32 word i>"
//   write <i> <v>    -> "ok" once word i holds v
//   fill <byte>      -> "ok" once every byte of the segment is <byte>
//   sum              -> "sum <sum of all bytes>"
//   close            -> "closed" (the segment's handle is closed; the peer stays)
//   exit             -> (no answer) the peer stops listening and ends
export function answer(command: string, buffer: SharedArrayBuffer, close: () => void): string | null {
  const [verb, ...args] = command.split(' ');
  const words = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  switch (verb) {
    case 'read':
      return `value ${Atomics.load(words, Number(args[0]))}`;
    case 'write':
      Atomics.store(words, Number(args[0]), Number(args[1]));
      return 'ok';
    case 'fill':
      new Uint8Array(buffer).fill(Number(args[0]));
      return 'ok';
    case 'sum': {
      let sum = 0;
      for (const byte of new Uint8Array(buffer)) sum += byte;
      return `sum ${sum}`;
    }
    case 'close':
      close();
      return 'closed';
    case 'exit':
      return null;
    default:
      return `unknown command ${JSON.stringify(command)}`;
  }
}
