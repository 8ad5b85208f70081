/**
 * Where received messages land. The kernel copies each message straight into a large
 * ArrayBuffer at the current offset, and the message handed to the caller is a view of exactly
 * its bytes; the offset then moves past it. So each message costs one copy (the kernel's) and
 * no allocation, except one new chunk every `chunkSize / slot` messages or more.
 *
 * Like Node's Buffer pool, a view keeps its whole chunk alive: `data.buffer` is the chunk, and
 * `data.byteOffset` says where the message starts. Copy (`data.slice()`) to keep a few small
 * messages for a long time.
 */
export class ReceivePool {
  #chunk: Uint8Array;
  #offset = 0;

  /** `slot`: room one receive needs (the largest message plus any header). */
  constructor(readonly slot: number) {
    this.#chunk = this.#fresh();
  }

  #fresh(): Uint8Array {
    return new Uint8Array(Math.max(64 * 1024, 8 * this.slot));
  }

  /** The chunk and offset to receive into, with at least `slot` bytes free. */
  get chunk(): Uint8Array {
    if (this.#chunk.length - this.#offset < this.slot) {
      this.#chunk = this.#fresh();
      this.#offset = 0;
    }
    return this.#chunk;
  }

  get offset(): number {
    return this.#offset;
  }

  /** Claims `length` bytes starting `skip` bytes after the offset, as the message's view. */
  take(skip: number, length: number): Uint8Array {
    const start = this.#offset + skip;
    const view = this.#chunk.subarray(start, start + length);
    // Keep the next receive 8-byte aligned (SysV's header is a C long).
    this.#offset = (start + length + 7) & ~7;
    return view;
  }
}
