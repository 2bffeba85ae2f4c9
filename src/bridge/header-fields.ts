// The interproc headers of a delivered message, read in one pass over its header map.
// MsgHdrs.get() lists every key and filters the list anew on each call (two arrays a call,
// six calls a message); the import reads a message's headers once into this view, and
// readHeaders() (message-headers.ts) validates the view as it would the map: get() gives
// what MsgHdrs.get() gives for these six names (the first value of the exact key, or '').
import type { MsgHdrs } from '@nats-io/transport-node';
import { HEADER, type HeaderMap } from './message-headers.ts';

export class HeaderFields implements HeaderMap {
  #type = '';
  #host = '';
  #pid = '';
  #threadId = '';
  #sentAt = '';
  #codec = '';

  /** Reads the interproc headers of `headers`, forgetting the previous message's (one view serves a whole import loop). */
  readFrom(headers: MsgHdrs): this {
    this.#type = this.#host = this.#pid = this.#threadId = this.#sentAt = this.#codec = '';
    // A header map's keys are unique (a repeated header is one key with several values).
    for (const [key, values] of headers) this.set(key, values[0] ?? '');
    return this;
  }

  get(key: string): string {
    switch (key) {
      case HEADER.type:
        return this.#type;
      case HEADER.host:
        return this.#host;
      case HEADER.pid:
        return this.#pid;
      case HEADER.threadId:
        return this.#threadId;
      case HEADER.sentAt:
        return this.#sentAt;
      case HEADER.codec:
        return this.#codec;
      default:
        return '';
    }
  }

  /** Keeps `value` if `key` is one of the six; other headers (Nats-Msg-Id, a user's own) are not interproc's. */
  set(key: string, value: string): void {
    switch (key) {
      case HEADER.type:
        this.#type = value;
        break;
      case HEADER.host:
        this.#host = value;
        break;
      case HEADER.pid:
        this.#pid = value;
        break;
      case HEADER.threadId:
        this.#threadId = value;
        break;
      case HEADER.sentAt:
        this.#sentAt = value;
        break;
      case HEADER.codec:
        this.#codec = value;
        break;
    }
  }
}
