import { IpcError } from "./errors.js";

/**
 * The wire format, shared by both backends: each message is a frame, a 4-byte big-endian signed
 * length then that many bytes; a length over 2^31-1 is written as -1 then an 8-byte big-endian
 * length. This is exactly Python's multiprocessing.connection framing, so a Python
 * `Connection.send_bytes`/`recv_bytes` peer exchanges frames with ipckit's "bytes" codec.
 */

export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** Largest frame we can hold in one buffer in every runtime. */
export const MAX_MESSAGE_SIZE_LIMIT = 2 ** 32 - 1;
const SMALL_LIMIT = 0x7fffffff;
/** Frames longer than this that span reads are assembled as they arrive rather than joined at the end. */
const ASSEMBLE_IN_PLACE = 64 * 1024;

export function frameHeader(length: number): Uint8Array {
  if (length <= SMALL_LIMIT) {
    const header = new Uint8Array(4);
    new DataView(header.buffer).setInt32(0, length);
    return header;
  }
  const header = new Uint8Array(12);
  const view = new DataView(header.buffer);
  view.setInt32(0, -1);
  view.setBigUint64(4, BigInt(length));
  return header;
}

/** Header and payload in one buffer: one write, one syscall, for small messages. */
export function frameSmall(payload: Uint8Array): Uint8Array {
  // Buffer.allocUnsafe takes small buffers from a pool and skips zero-filling: measurably
  // cheaper per message than new Uint8Array in Node, and Deno and Bun provide it too.
  const out = Buffer.allocUnsafe(4 + payload.length);
  const n = payload.length;
  out[0] = n >>> 24;
  out[1] = (n >>> 16) & 255;
  out[2] = (n >>> 8) & 255;
  out[3] = n & 255;
  out.set(payload, 4);
  return out;
}

/** The signed big-endian int32 at `at` (no DataView allocated per frame). */
function int32At(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

export function tooLarge(length: number, max: number, side: "send" | "receive"): IpcError {
  return new IpcError(
    "ERR_IPC_TOO_LARGE",
    side === "send"
      ? `message of ${length} bytes is over maxMessageSize (${max})`
      : `peer sent a message of ${length} bytes, over maxMessageSize (${max}); the connection was closed without reading it`,
  );
}

export interface FrameSink {
  /** A whole frame's payload; it may be a view into a buffer the decoder no longer touches. */
  frame(payload: Uint8Array): void;
  /** The stream cannot go on (a negative length, or a frame over the limit): the connection must end. */
  corrupt(error: IpcError): void;
}

/**
 * Cuts a byte stream into frames. Chunks are kept as a list and only joined when a frame spans
 * them, so a large frame costs one copy and small frames in one chunk cost none.
 */
export class FrameDecoder {
  readonly #max: number;
  readonly #sink: FrameSink;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Payload bytes of the current frame still expected, or -1 while reading a header. */
  #need = -1;
  #failed = false;
  /** A large frame being assembled in place: each chunk is copied in as it arrives, while hot. */
  #partial: Uint8Array | undefined;
  #filled = 0;

  constructor(maxMessageSize: number, sink: FrameSink) {
    this.#max = maxMessageSize;
    this.#sink = sink;
  }

  /** True when no partial frame is pending (an EOF here is a clean end). */
  get atBoundary(): boolean {
    return this.#buffered === 0 && this.#need === -1 && this.#partial === undefined;
  }

  push(chunk: Uint8Array): void {
    if (this.#failed) return;
    const partial = this.#partial;
    if (partial !== undefined) {
      const take = Math.min(partial.length - this.#filled, chunk.length);
      partial.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.#filled);
      this.#filled += take;
      if (this.#filled < partial.length) return;
      this.#partial = undefined;
      this.#need = -1;
      this.#sink.frame(partial);
      if (take === chunk.length || this.#failed) return;
      chunk = chunk.subarray(take);
    }
    if (this.#buffered === 0) {
      // Fast path: frames wholly inside this chunk become views of it, one allocation each.
      const length = chunk.length;
      let at = 0;
      while (length - at >= 4) {
        const n = int32At(chunk, at);
        if (n < 0 || n > this.#max || length - at - 4 < n) break;
        this.#sink.frame(new Uint8Array(chunk.buffer, chunk.byteOffset + at + 4, n));
        if (this.#failed) return;
        at += 4 + n;
      }
      if (at === length) return;
      if (at > 0) chunk = chunk.subarray(at);
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    this.#drain();
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    this.#buffered -= n;
    if (first.length === n) {
      this.#chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    // Spans chunks: gather the slices and join them once (Buffer.concat skips zero-filling).
    const parts: Uint8Array[] = [];
    let filled = 0;
    while (filled < n) {
      const head = this.#chunks[0]!;
      const part = Math.min(head.length, n - filled);
      if (part === head.length) {
        parts.push(head);
        this.#chunks.shift();
      } else {
        parts.push(head.subarray(0, part));
        this.#chunks[0] = head.subarray(part);
      }
      filled += part;
    }
    return Buffer.concat(parts, n);
  }

  #peekInt32(): number {
    const first = this.#chunks[0]!;
    if (first.length >= 4) return int32At(first, 0);
    const head = this.#take(4);
    // Put it back as its own chunk so the regular path reads it.
    this.#chunks.unshift(head);
    this.#buffered += 4;
    return int32At(head, 0);
  }

  #drain(): void {
    for (;;) {
      if (this.#need === -1) {
        if (this.#buffered < 4) return;
        let length = this.#peekInt32();
        let headerSize = 4;
        if (length === -1) {
          if (this.#buffered < 12) return;
          const header = this.#take(12);
          const big = new DataView(header.buffer, header.byteOffset, 12).getBigUint64(4);
          length = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
          headerSize = 0;
        } else if (length < 0) {
          this.#fail(new IpcError("ERR_IPC_PROTOCOL", `bad frame header (length ${length}): the peer does not speak ipckit framing`));
          return;
        }
        if (headerSize > 0) this.#take(headerSize);
        // Refused from the header alone: nothing of it is buffered, and the stream cannot resync.
        if (length > this.#max) {
          this.#fail(tooLarge(length, this.#max, "receive"));
          return;
        }
        this.#need = length;
      }
      if (this.#buffered < this.#need) {
        if (this.#need > ASSEMBLE_IN_PLACE) this.#startPartial();
        return;
      }
      const payload = this.#need === 0 ? new Uint8Array(0) : this.#take(this.#need);
      this.#need = -1;
      this.#sink.frame(payload);
      if (this.#failed) return;
    }
  }

  /** Moves what is buffered (all of it belongs to this frame) into the frame's own buffer. */
  #startPartial(): void {
    const partial = Buffer.allocUnsafe(this.#need);
    let filled = 0;
    for (const chunk of this.#chunks) {
      partial.set(chunk, filled);
      filled += chunk.length;
    }
    this.#chunks = [];
    this.#buffered = 0;
    this.#partial = partial;
    this.#filled = filled;
  }

  #fail(error: IpcError): void {
    this.reset();
    this.#sink.corrupt(error);
  }

  /** Stops decoding (the connection is gone). */
  reset(): void {
    this.#partial = undefined;
    this.#chunks = [];
    this.#buffered = 0;
    this.#failed = true;
  }
}
