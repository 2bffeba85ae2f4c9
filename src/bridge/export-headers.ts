// The NATS headers of an exported message, written once as the text the client sends.
//
// The client's own header set (MsgHdrsImpl) checks and canonicalizes every key and scans
// all keys on each set(): eight sets per message (six of ours, the message id and the
// expected stream) cost more than the rest of the export's own work. The keys here are
// constants already in canonical form, and the values are numbers, the mailbox's codec
// name, the stream name (checked by the bridge's options), message ids from checked names,
// and hosts, checked here once per distinct host. The text is byte for byte what
// MsgHdrsImpl.encode() gives for the same headers set in the same order (a test compares
// them), so a message id is the same whichever version of the bridge published it.
//
// The client only calls encode() on the headers of a publish. The other methods of
// MsgHdrs work on a full header set made from this text on first use.
import type { Match, MsgHdrs } from '@nats-io/transport-node';
import { IpcError } from '../core/errors.ts';
import { HEADER } from './message-headers.ts';

const encoder = new TextEncoder();
const VERSION_LINE = 'NATS/1.0';
const LINE_END = '\r\n';
const MSG_ID = 'Nats-Msg-Id';
const EXPECTED_STREAM = 'Nats-Expected-Stream';

/**
 * A header value as the client would send it: trimmed, and refused when it holds CR or LF
 * (which would end the header early). `what` names it in the error.
 */
export function headerValue(value: string, what: string): string {
  if (/[\r\n]/.test(value)) throw new IpcError('EINVAL', `${what} ${JSON.stringify(value.slice(0, 80))} cannot travel in a NATS header (CR or LF)`);
  return value.trim();
}

/** The fixed parts of one mailbox's export headers, and the text of each message's. */
export class ExportHeaderWriter {
  readonly #codecLine: string;
  /** The message id up to its seq, and the expected stream: the end of every message's headers. */
  readonly #idPrefix: string;
  readonly #tail: string;
  readonly #make: () => MsgHdrs;
  /** The last origin host seen, and its checked header value (most messages share one). */
  #lastHost: string | null = null;
  #lastHostValue = '';

  /**
   * `idPrefix` is the message id without its seq (messageId(...) of this mailbox up to its
   * last "/"); `make` gives an empty header set of the client, for the rarely used methods.
   */
  constructor(codec: string, idPrefix: string, stream: string, make: () => MsgHdrs) {
    this.#codecLine = `${HEADER.codec}: ${headerValue(codec, 'codec')}${LINE_END}`;
    // The client trims the whole id; only its start can have spaces (a seq ends it).
    this.#idPrefix = `${MSG_ID}: ${headerValue(idPrefix, 'message id')}`;
    this.#tail = `${LINE_END}${EXPECTED_STREAM}: ${headerValue(stream, 'stream')}${LINE_END}${LINE_END}`;
    this.#make = make;
  }

  /**
   * The headers of one message, in the order writeHeaders() sets them, then the id and the
   * stream. `idSuffix` ends the id of a publish again under a retry id (forgery-check.ts).
   */
  headersFor(type: number, host: string, pid: number, threadId: number, sentAt: number, seq: number, idSuffix = ''): WireHeaders {
    if (host !== this.#lastHost) {
      this.#lastHostValue = headerValue(host, 'host');
      this.#lastHost = host;
    }
    const text =
      `${VERSION_LINE}${LINE_END}${HEADER.type}: ${type}${LINE_END}${HEADER.host}: ${this.#lastHostValue}${LINE_END}` +
      `${HEADER.pid}: ${pid}${LINE_END}${HEADER.threadId}: ${threadId}${LINE_END}${HEADER.sentAt}: ${sentAt}${LINE_END}` +
      `${this.#codecLine}${this.#idPrefix}${seq}${idSuffix}${this.#tail}`;
    return new WireHeaders(text, this.#make);
  }
}

/** Headers held as their wire text; a full header set is made only if something other than encode() is asked. */
export class WireHeaders implements MsgHdrs {
  #text: string;
  #full: MsgHdrs | null = null;
  readonly #make: () => MsgHdrs;

  constructor(text: string, make: () => MsgHdrs) {
    this.#text = text;
    this.#make = make;
  }

  /** What the client sends (MsgHdrsImpl.encode()'s format). */
  encode(): Uint8Array {
    return encoder.encode(this.#text);
  }

  #headers(): MsgHdrs {
    if (this.#full === null) {
      const full = this.#make();
      for (const line of this.#text.split(LINE_END).slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) full.append(line.slice(0, colon), line.slice(colon + 1).trim());
      }
      this.#full = full;
    }
    return this.#full;
  }

  /** After a change through the full set: its text again. */
  #changed(): void {
    let text = VERSION_LINE;
    for (const [key, values] of this.#headers()) for (const value of values) text += `${LINE_END}${key}: ${value}`;
    this.#text = `${text}${LINE_END}${LINE_END}`;
  }

  get hasError(): boolean {
    return this.#headers().hasError;
  }
  get status(): string {
    return this.#headers().status;
  }
  get code(): number {
    return this.#headers().code;
  }
  get description(): string {
    return this.#headers().description;
  }
  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.#headers()[Symbol.iterator]();
  }
  get(k: string, match?: Match): string {
    return this.#headers().get(k, match);
  }
  has(k: string, match?: Match): boolean {
    return this.#headers().has(k, match);
  }
  keys(): string[] {
    return this.#headers().keys();
  }
  values(k: string, match?: Match): string[] {
    return this.#headers().values(k, match);
  }
  last(k: string, match?: Match): string {
    return this.#headers().last(k, match);
  }
  set(k: string, v: string, match?: Match): void {
    this.#headers().set(k, v, match);
    this.#changed();
  }
  append(k: string, v: string, match?: Match): void {
    this.#headers().append(k, v, match);
    this.#changed();
  }
  delete(k: string, match?: Match): void {
    this.#headers().delete(k, match);
    this.#changed();
  }
}
