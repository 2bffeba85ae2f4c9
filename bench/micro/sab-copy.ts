// How fast V8 copies 1 MiB with TypedArray.prototype.set(), with and without a
// SharedArrayBuffer on either side, in one thread, in cache. The Mailbox's large messages
// are copied this way (into shared memory by the sender, out of it by the receiver), so
// this bounds its 1 MiB figures beside the C memcpy baseline:
//
//   node --import tsx bench/micro/sab-copy.ts
//
// (The work is all inside set(); running through tsx does not change it.)
const MiB = 1 << 20;
const SLOTS = 8; // like the bench's 1 MiB mailboxes: 8 messages in flight, 8 MiB in cache
const ROUNDS = 2000;

const shared = new Uint8Array(new SharedArrayBuffer(SLOTS * MiB));
const plain = new Uint8Array(SLOTS * MiB);
const plainTarget = new Uint8Array(MiB);
const sharedTarget = new Uint8Array(new SharedArrayBuffer(MiB));

function measure(name: string, copy: (slot: number) => void): void {
  for (let slot = 0; slot < SLOTS; slot++) copy(slot); // warm-up
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    for (let i = 0; i < ROUNDS; i++) copy(i % SLOTS);
    const seconds = (performance.now() - started) / 1000;
    best = Math.max(best, (ROUNDS * MiB) / seconds / 1e9);
  }
  console.log(`${name.padEnd(40)} ${best.toFixed(1)} GB/s (best of 3 runs of ${ROUNDS} copies)`);
}

const slice = (array: Uint8Array, slot: number) => array.subarray(slot * MiB, (slot + 1) * MiB);
measure('SharedArrayBuffer -> ArrayBuffer', (slot) => plainTarget.set(slice(shared, slot)));
measure('ArrayBuffer -> SharedArrayBuffer', (slot) => shared.set(plainTarget, slot * MiB));
measure('SharedArrayBuffer -> SharedArrayBuffer', (slot) => sharedTarget.set(slice(shared, slot)));
measure('ArrayBuffer -> ArrayBuffer', (slot) => plainTarget.set(slice(plain, slot)));
