// Batches: many messages moved by one call of a message store. In RING mode a batch is one
// claim of consecutive positions and one publish pass (Ring.tryPushMany / tryPopMany) and
// one wake; in LIST mode it is a loop under one hold of the store's lock. Each message of a
// batch is a message of its own to every other party: it is taken, recovered after a
// crash and counted exactly as if it had been sent or received alone, and the messages of
// one batch keep their order.
import { IpcError } from '../core/errors.ts';
import { isPlain, leaveRingBriefly } from './operations.ts';
import { HEAD_SKIPPED, HEAD_STUCK, NOT_RING, type Ring } from './ring.ts';
import { roundUp8 } from './layout.ts';
import { type Selector } from './selector.ts';
import { type Envelope, type MessageStore } from './store.ts';

/**
 * Enqueues payloads[from], payloads[from + 1], ... (with types[from], ...) in order for as
 * long as each fits now: the number enqueued, the prefix of those given. Never waits (a
 * lock held past TRY_LOCK_MS is no room now). With zero capacity each message needs a
 * receiver waiting for it now, as trySend.
 */
export function trySendMany(store: MessageStore, payloads: readonly Uint8Array[], types: readonly number[], from: number): number {
  let sent = from;
  const ring = store.ring;
  if (ring !== null && ring.active) {
    store.checkRemoved();
    let full = false;
    while (sent < payloads.length) {
      const pushed = ring.tryPushMany(payloads, types, sent);
      if (pushed === NOT_RING) break;
      if (pushed === 0) {
        // A stopped receiver holding a slot: the list gets past it (if the lock can be had now).
        full = !(ring.stuckOnLiveTaker && leaveRingBriefly(store));
        break;
      }
      sent += pushed;
    }
    if (sent > from) store.wakeReceiversAfterPublish();
    if (full || sent === payloads.length) return sent - from;
  }
  if (sent === payloads.length) return sent - from;
  // As trySend: a full store needs no lock to say so.
  if (store.sendFoundNoRoom && store.fullHint(payloads[sent]!.length)) {
    store.checkRemoved();
    return sent - from;
  }
  store.sendFoundNoRoom = true;
  const now = Date.now();
  if (!store.tryLockBriefly()) {
    store.checkRemoved();
    return sent - from;
  }
  const before = sent;
  let pushedToRing = false;
  try {
    store.checkRemoved();
    if (store.inRingMode) {
      // Back in RING mode since the look above: the list is empty and must stay so.
      const pushed = (ring as Ring).tryPushMany(payloads, types, sent);
      if (pushed > 0) sent += pushed;
      pushedToRing = true;
    } else {
      for (; sent < payloads.length; sent++) {
        const payload = payloads[sent]!;
        if (!store.hasRoom(payload.length)) break;
        if (store.config.capacity === 0 && !store.handToWaitingReceiver(types[sent]!)) break;
        store.enqueue(payload, types[sent]!, now);
      }
    }
  } finally {
    store.unlock();
  }
  if (sent > before) {
    store.sendFoundNoRoom = sent < payloads.length;
    if (pushedToRing) store.wakeReceiversAfterPublish();
    else store.wakeReceiversAfterSend(now);
  }
  return sent - from;
}

/**
 * Takes up to `max` (≥ 1) messages the selector takes now, in order, appending their
 * Envelopes to `out`: the number taken. With `into`, payloads are copied into it one after
 * the other, each at the next multiple of 8 bytes from its start (Envelope.data is a view
 * of it); the batch ends before the first message that does not fit in what is left, and a
 * first message longer than the whole buffer is left queued (E2BIG). With `reuse` (the
 * caller's pool of Envelopes, which it must be done with), messages taken from the ring
 * come in its Envelopes, refilled (Ring.tryPopMany).
 */
export function tryReceiveMany(store: MessageStore, selector: Selector, max: number, into: Uint8Array | null, out: Envelope[], reuse: Envelope[] | null = null): number {
  const ring = store.ring;
  if (ring !== null && ring.active) {
    if (isPlain(selector)) {
      store.checkRemoved();
      let popped = ring.tryPopMany(max, into, out, true, 0, reuse);
      if (popped === 0) {
        // As tryReceive: a head slot whose sender died before publishing hides what follows it.
        const head = ring.recoverHeadWhilePolling();
        if (head === HEAD_SKIPPED) {
          store.wakeSenders();
          popped = ring.tryPopMany(max, into, out, true, 0, reuse);
        } else if (head === HEAD_STUCK) {
          popped = leaveRingBriefly(store) ? NOT_RING : 0;
        }
      }
      // More may have been published behind the first batch meanwhile: one more pass.
      if (popped > 0 && popped < max) popped += popMore(ring, max - popped, into, packedEnd(out, popped), out, reuse);
      if (popped !== NOT_RING) {
        if (popped > 0) store.wakeSendersForRoom();
        return popped;
      }
    } else if (!leaveRingBriefly(store)) {
      store.checkRemoved();
      return 0;
    }
  }
  if (store.receiveFoundNone && store.queuedHint === 0 && (ring === null || ring.count === 0)) {
    store.checkRemoved();
    return 0;
  }
  store.receiveFoundNone = true;
  const now = Date.now();
  if (!store.tryLockBriefly()) {
    store.checkRemoved();
    return 0;
  }
  let taken = 0;
  let end = 0;
  let poppedFromRing = false;
  try {
    store.checkRemoved();
    // As tryReceive under the lock: a selective receive needs the list (unless its head is
    // what it takes), and a store back in RING mode keeps its list empty: the ring serves.
    if (!isPlain(selector)) store.ensureListFor(selector);
    if (store.inRingMode) {
      const popped = (ring as Ring).tryPopMany(max, into, out);
      if (popped > 0) taken = popped;
      poppedFromRing = true;
    }
    for (; !poppedFromRing && taken < max; taken++) {
      const rest = into === null ? null : into.subarray(end);
      if (taken > 0 && rest !== null && rest.length === 0) break;
      try {
        if (!store.take(selector, null, rest, now)) break;
      } catch (error) {
        // The next message does not fit what is left of `into`: the batch ends before it.
        if (taken > 0 && error instanceof IpcError && error.code === 'E2BIG') break;
        throw error;
      }
      // (Copied out under the lock: the next take reuses the handle's scratch buffer.)
      const envelope = store.taken();
      out.push(envelope);
      end += roundUp8(envelope.data.length);
    }
  } finally {
    store.unlock();
  }
  store.receiveFoundNone = taken === 0;
  if (taken > 0) {
    if (poppedFromRing) store.wakeSendersForRoom();
    else store.wakeSenders();
  }
  return taken;
}

// A second pass over the ring after a batch of `count` ended: up to `max` more, packed from
// `end` into `into`. Taken messages are the caller's already, so what ends this pass — the
// next message does not fit what is left, the store left RING mode — only ends it.
function popMore(ring: Ring, max: number, into: Uint8Array | null, end: number, out: Envelope[], reuse: Envelope[] | null): number {
  if (into !== null && end >= into.length) return 0;
  return Math.max(0, ring.tryPopMany(max, into, out, false, into === null ? 0 : end, reuse));
}

// Where the payloads of the last `count` Envelopes of `out` end in the buffer they were
// packed into (each at a multiple of 8 from its start).
function packedEnd(out: Envelope[], count: number): number {
  let end = 0;
  for (let k = out.length - count; k < out.length; k++) end += roundUp8(out[k]!.data.length);
  return end;
}
