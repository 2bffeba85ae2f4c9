// What the pipe tests and their helper processes and workers share: seeded chunk sizes,
// checksummed echo and transfer loops in the plain and the stream form, a byte pattern a
// reader can check at any offset, and the records of the atomic-write test.
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PipeReader, PipeWriter } from '../../src/index.ts';
import { generator } from './stress-message.ts';

export type Form = 'plain' | 'stream';

export function parseForm(text: string | undefined): Form {
  if (text !== 'plain' && text !== 'stream') throw new Error(`expected 'plain' or 'stream', got ${text}`);
  return text;
}

/** The largest chunk a transfer writes or asks to read at once: larger than a default pipe, so writes go in pieces. */
export const MAX_CHUNK = 200 * 1024;

/**
 * Chunk sizes from 1 byte to MAX_CHUNK drawn from `seed`: one in four is 1 to 64 bytes, so
 * that positions in the ring soon stop lining up with anything and every wrap is at an odd
 * offset; the rest are uniform.
 */
export function chunkSizes(seed: number): () => number {
  const next = generator(seed);
  return () => {
    const small = next() % 4 === 0;
    return 1 + (next() % (small ? 64 : MAX_CHUNK));
  };
}

export interface Digest {
  sha256: string;
  bytes: number;
}

export function digestLine(digest: Digest): string {
  return `sha256 ${digest.sha256} ${digest.bytes}`;
}

export function parseDigestLine(line: unknown): Digest {
  const match = /^sha256 ([0-9a-f]{64}) (\d+)$/.exec(String(line));
  if (match === null) throw new Error(`expected a digest line, got ${String(line)}`);
  return { sha256: match[1]!, bytes: Number(match[2]) };
}

export function digestOf(data: Uint8Array): Digest {
  return { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
}

/** The slices of `data` in the sizes `size` draws. */
export function* slices(data: Uint8Array, size: () => number): Generator<Uint8Array> {
  for (let from = 0; from < data.length; ) {
    const to = Math.min(data.length, from + size());
    yield data.subarray(from, to);
    from = to;
  }
}

/** Writes all of `data` in chunks of the sizes `size` draws, then closes the writer (end() for the stream form). */
export async function send(writer: PipeWriter, data: Uint8Array, form: Form, size: () => number): Promise<void> {
  if (form === 'stream') {
    await pipeline(Readable.from(slices(data, size), { objectMode: false }), writer);
    return;
  }
  for (const chunk of slices(data, size)) await writer.writeBytes(chunk);
  writer.close();
}

/** Reads to end of file (the plain form asks for sizes `size` draws) and digests what came. */
export async function receive(reader: PipeReader, form: Form, size: () => number): Promise<Digest> {
  const hash = createHash('sha256');
  let bytes = 0;
  if (form === 'stream') {
    for await (const chunk of reader) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } else {
    for (;;) {
      const chunk = await reader.readBytes(size());
      if (chunk === null) break;
      hash.update(chunk);
      bytes += chunk.length;
    }
    reader.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Writes back everything read until end of file, then closes both ends; returns the
 * digest of what went through. The stream form is `pipeline(reader, digest, writer)`.
 */
export async function echo(reader: PipeReader, writer: PipeWriter, form: Form, size: () => number): Promise<Digest> {
  const hash = createHash('sha256');
  let bytes = 0;
  if (form === 'stream') {
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(reader, tap, writer);
  } else {
    for (;;) {
      const chunk = await reader.readBytes(size());
      if (chunk === null) break;
      hash.update(chunk);
      bytes += chunk.length;
      await writer.writeBytes(chunk);
    }
    writer.close();
    reader.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** The byte at `offset` of the pattern stream: not periodic at any power of two up to 2^16. */
function patternByte(offset: number): number {
  return (offset + Math.floor(offset / 251) * 7 + Math.floor(offset / 65521)) & 0xff;
}

/** `length` bytes of the pattern stream from `offset`. */
export function pattern(offset: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let index = 0; index < length; index++) bytes[index] = patternByte(offset + index);
  return bytes;
}

/** The first offset in `bytes` (which sit at `offset` of the stream) that is not the pattern's, or -1. */
export function patternMismatch(bytes: Uint8Array, offset: number): number {
  for (let index = 0; index < bytes.length; index++) if (bytes[index] !== patternByte(offset + index)) return offset + index;
  return -1;
}

// A record of the atomic-write test, RECORD_BYTES long:
//   [0, 4) writer id   [4, 8) sequence number   [8, 4092) filler drawn from (id, seq)
//   [4092, 4096) FNV-1a of bytes [0, 4092)
// A torn record (two writers' bytes mixed, or a piece missing) fails the checksum.
export const RECORD_BYTES = 4096;
const CHECKSUM_AT = RECORD_BYTES - 4;

function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let hash = 0x811c9dc5;
  for (let index = from; index < to; index++) hash = Math.imul(hash ^ bytes[index]!, 0x01000193);
  return hash >>> 0;
}

export function makeRecord(id: number, seq: number): Buffer {
  const record = Buffer.allocUnsafe(RECORD_BYTES);
  record.writeUInt32LE(id, 0);
  record.writeUInt32LE(seq, 4);
  const filler = generator((id * 0x10001 + seq) | 0);
  for (let at = 8; at < CHECKSUM_AT; at += 4) record.writeUInt32LE(filler(), at);
  record.writeUInt32LE(fnv1a(record, 0, CHECKSUM_AT), CHECKSUM_AT);
  return record;
}

/** The writer and sequence number of a whole record at `offset` of `bytes`; null when the checksum fails. */
export function parseRecord(bytes: Buffer, offset: number): { id: number; seq: number } | null {
  if (fnv1a(bytes, offset, offset + CHECKSUM_AT) !== bytes.readUInt32LE(offset + CHECKSUM_AT)) return null;
  return { id: bytes.readUInt32LE(offset), seq: bytes.readUInt32LE(offset + 4) };
}
