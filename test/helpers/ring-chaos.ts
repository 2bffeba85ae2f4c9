// A sender or receiver that works a mailbox's ring flat out until it is killed (SIGKILL, by
// test/xproc/mailbox-ring-kill.test.ts), so that it dies at arbitrary points of the ring's
// protocol: between claim and publish, between take and release, inside the counters.
//
//   ring-chaos.ts sender   <mailbox> <id>   trySend, else sendSync / send with short timeouts
//   ring-chaos.ts receiver <mailbox>        tryReceive, receiveSync and receive with short timeouts
//
// Messages are 1 to 64 bytes: [sender id, seq (3 bytes), checksum] and filler derived from
// those, cut to a length drawn from the seq (down to 1 byte: then the id alone). A receiver
// checks every message it takes and says "problem <what>" on stdout for a corrupt one or
// one out of its sender's order; "ready" once it runs.
import { IpcError, Mailbox } from '../../src/index.ts';
import { say } from './protocol.ts';

const [role, name, idText] = process.argv.slice(2);
const mailbox = Mailbox.open<Uint8Array>(name!);

function filler(id: number, seq: number, i: number): number {
  return (id * 97 + seq * 13 + i * 31 + 7) & 0xff;
}

function build(id: number, seq: number): Uint8Array {
  const length = 1 + (Math.imul(seq, 2654435761) >>> 26);
  const bytes = new Uint8Array(Math.min(64, length));
  const full = [id, seq & 0xff, (seq >>> 8) & 0xff, (seq >>> 16) & 0xff, (id ^ seq ^ (seq >>> 8) ^ (seq >>> 16)) & 0xff];
  for (let i = 0; i < bytes.length; i++) bytes[i] = i < full.length ? full[i]! : filler(id, seq, i);
  return bytes;
}

function gaveUp(error: unknown): boolean {
  return (error instanceof IpcError && error.code === 'ETIMEDOUT') || (error as { code?: unknown }).code === 'ABORT_ERR';
}

async function sender(id: number): Promise<void> {
  say('ready');
  for (let seq = 0; ; seq++) {
    const data = build(id, seq);
    for (let sent = false; !sent; ) {
      if (mailbox.trySend(data)) break;
      try {
        if (seq % 2 === 0) mailbox.sendSync(data, { timeout: 20 });
        else await mailbox.send(data, { timeout: 20 });
        sent = true;
      } catch (error) {
        if (!gaveUp(error)) throw error;
      }
    }
  }
}

async function receiver(): Promise<void> {
  say('ready');
  const last = new Map<number, number>();
  for (let n = 1; ; n++) {
    let message;
    try {
      message = mailbox.tryReceive() ?? (n % 2 === 0 ? mailbox.receiveSync({ timeout: 20 }) : await mailbox.receive({ timeout: 20 }));
    } catch (error) {
      if (gaveUp(error)) continue;
      throw error;
    }
    const bytes = message.data;
    const id = bytes[0]!;
    if (bytes.length < 5) {
      // Too short to say its seq: only its bytes can be checked, against any seq.
      if (bytes.length === 0) say(`problem empty message seq ${message.seq}`);
    } else {
      const seq = bytes[1]! | (bytes[2]! << 8) | (bytes[3]! << 16);
      const expected = build(id, seq);
      if (bytes.length !== expected.length || !bytes.every((byte, i) => byte === expected[i])) {
        say(`problem corrupt message (sender ${id}, seq ${seq}, ${bytes.length} bytes)`);
      }
      const previous = last.get(id) ?? -1;
      if (seq <= previous) say(`problem sender ${id}: seq ${seq} after ${previous}`);
      last.set(id, seq);
    }
  }
}

if (role === 'sender') await sender(Number(idText));
else await receiver();
