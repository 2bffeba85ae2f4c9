// Length-prefixed framing for byte streams (Unix domain sockets, pipes): each message is a
// 4-byte little-endian length and that many bytes. The reader hands out whole messages
// only, as a Buffer each (a view into the chunk when the message lies within one chunk,
// a copy when it spans several), so that stream transports are counted in messages.

export const HEADER_BYTES = 4;

/** Frames of messages of `payload`: one buffer for small messages, header + payload for large ones. */
export function frameSmall(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

export function header(length: number): Buffer {
  const bytes = Buffer.allocUnsafe(HEADER_BYTES);
  bytes.writeUInt32LE(length, 0);
  return bytes;
}

export class FrameReader {
  readonly #onMessage: (message: Buffer) => void;
  readonly #maxLength: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(onMessage: (message: Buffer) => void, maxLength: number) {
    this.#onMessage = onMessage;
    this.#maxLength = maxLength;
  }

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.#pendingBytes > 0) {
      // Only join what an unfinished message needs.
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes < HEADER_BYTES) return;
      const length = this.#peekLength();
      if (this.#pendingBytes < HEADER_BYTES + length) return;
      data = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    let offset = 0;
    while (data.length - offset >= HEADER_BYTES) {
      const length = data.readUInt32LE(offset);
      if (length > this.#maxLength) throw new Error(`framing: message of ${length} bytes (at most ${this.#maxLength} expected)`);
      const end = offset + HEADER_BYTES + length;
      if (end > data.length) break;
      this.#onMessage(data.subarray(offset + HEADER_BYTES, end));
      offset = end;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.#pending.push(rest);
      this.#pendingBytes += rest.length;
    }
  }

  get idle(): boolean {
    return this.#pendingBytes === 0;
  }

  #peekLength(): number {
    const first = this.#pending[0]!;
    if (first.length >= HEADER_BYTES) return first.readUInt32LE(0);
    return Buffer.concat(this.#pending, this.#pendingBytes).readUInt32LE(0);
  }
}
