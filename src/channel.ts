import { IpcError, invalidArgument } from "./errors.js";
import { Handle } from "./handle.js";
import { toBytes } from "./shared/bytes.js";
import { Attempt, MAX_CAPACITY, MIN_CAPACITY, RING_HEADER_BYTES, Ring } from "./shared/ring.js";
import { Closer, parseWait, type ParsedWait, type SyncWaitOptions, type WaitOptions } from "./shared/waiting.js";
import { MAX_SPIN_US, SharedWords, timeoutError } from "./shared/words.js";
import { checkInteger, checkMode, checkObjectName, checkOptions, describeValue } from "./validate.js";

export type { SyncWaitOptions, WaitOptions } from "./shared/waiting.js";

/** What `send` accepts: bytes (no copy before the one into the ring) or a string (UTF-8). */
export type ChannelData = Uint8Array | ArrayBufferView | ArrayBuffer | string;

export interface ChannelCreateOptions {
  /**
   * Ring size in bytes, rounded up to a power of two (64 B .. 1 GiB). Default 1 MiB. Each message
   * takes 4 bytes plus its length rounded up to 4; the largest message is capacity - 4 bytes.
   */
  capacity?: number;
  /** Permission bits of the shared-memory object. Default 0o600. */
  mode?: number;
}

/** Internal: Queue sets a message-count limit on its channel. */
export interface ChannelInternalOptions extends ChannelCreateOptions {
  maxMessages?: number;
  tag?: number;
}

const API = "Channel";
const DEFAULT_CAPACITY = 1 << 20;
const JS_SPINS = MAX_SPIN_US === 0 ? 0 : 128;

function roundCapacity(value: unknown): number {
  const requested = checkInteger(value ?? DEFAULT_CAPACITY, "capacity", 1, MAX_CAPACITY);
  let capacity = MIN_CAPACITY;
  while (capacity < requested) capacity *= 2;
  return capacity;
}

function checkMax(value: unknown): number {
  return checkInteger(value, "max", 1, 0x7fffffff);
}

/**
 * A ring of byte messages in a named shared-memory segment: any number of senders and
 * receivers in any processes; each message is delivered once, whole, in send order per sender.
 * Sending and receiving run in JS with atomics over the mapping; only sleeping is native.
 */
export class Channel extends Handle {
  readonly #w: SharedWords;
  readonly #ring: Ring;
  readonly #closer = new Closer();
  readonly #sent = { n: 0, epoch: 0 };
  readonly #seen = { tail: 0 };
  /** Reused one-message list and receive buffer, so the hot paths allocate nothing extra. */
  readonly #one: Uint8Array[] = [new Uint8Array(0)];
  readonly #got: Uint8Array[] = [];

  private constructor(words: SharedWords, ring: Ring) {
    super();
    this.#w = words;
    this.#ring = ring;
  }

  /** Creates a new channel (ERR_IPC_EXISTS if the name is taken). */
  static create(name: string, options?: ChannelCreateOptions): Channel {
    return Channel.createInternal(name, checkOptions<ChannelCreateOptions>(options, "Channel.create"));
  }

  /** @internal */
  static createInternal(name: string, opts: ChannelInternalOptions): Channel {
    const objectName = checkObjectName(name);
    const capacity = roundCapacity(opts.capacity);
    const mode = checkMode(opts.mode);
    const maxMessages = opts.maxMessages === undefined ? 0 : checkInteger(opts.maxMessages, "maxsize", 0, 0x7fffffff);
    const words = SharedWords.create("channel", API, objectName, RING_HEADER_BYTES + capacity, mode);
    return new Channel(words, Ring.init(words, capacity, maxMessages, opts.tag ?? 0));
  }

  /** Opens an existing channel; a segment that is not a channel of this layout is refused. */
  static open(name: string): Channel {
    const objectName = checkObjectName(name);
    const words = SharedWords.open("channel", API, objectName);
    try {
      return new Channel(words, Ring.attach(words, `${API} ${JSON.stringify(objectName)}`));
    } catch (error) {
      words.close();
      throw error;
    }
  }

  /** Removes the name; processes that have the channel open keep using it. */
  static unlink(name: string): void {
    SharedWords.unlink("channel", API, checkObjectName(name));
  }

  get name(): string {
    return this.#w.name;
  }

  /** Ring size in bytes (after rounding). */
  get capacity(): number {
    return this.#ring.capacity;
  }

  /** Largest message this channel can carry (capacity - 4). */
  get maxMessageBytes(): number {
    return this.#ring.maxMessageBytes;
  }

  /** Messages waiting right now (a snapshot: other processes keep sending and receiving). */
  get pending(): number {
    this.ensureOpen();
    return this.#ring.count();
  }

  /** @internal What the creator layered on top (Queue: its codec id). */
  get tag(): number {
    return this.#ring.tag;
  }

  /** @internal Queue's message-count limit (0: none). */
  get maxMessages(): number {
    return this.#ring.maxMessages;
  }

  unlink(): void {
    Channel.unlink(this.#w.name);
  }

  #bytes(data: unknown, what = "data"): Uint8Array {
    const bytes = toBytes(data, what);
    if (bytes.length > this.#ring.maxMessageBytes) {
      throw new IpcError(
        "ERR_IPC_TOO_LARGE",
        `message of ${bytes.length} bytes does not fit ${this.describe()}: its capacity of ${this.#ring.capacity} bytes holds at most ${this.#ring.maxMessageBytes}`,
      );
    }
    return bytes;
  }

  #list(list: unknown): Uint8Array[] {
    if (!Array.isArray(list)) throw invalidArgument(`sendMany takes an array of messages, got ${describeValue(list)}`);
    return list.map((m, i) => this.#bytes(m, `message ${i}`));
  }

  // ---- sending ----

  /** One non-blocking pass; returns the index of the first message not sent. */
  #trySendFrom(list: readonly Uint8Array[], from: number): { next: number; state: Attempt } {
    const state = this.#ring.trySend(list, from, this.#sent);
    return { next: from + this.#sent.n, state };
  }

  #sendManySync(list: readonly Uint8Array[], wait: ParsedWait): void {
    let from = 0;
    for (;;) {
      const { next, state } = this.#trySendFrom(list, from);
      from = next;
      if (state === Attempt.Done) return;
      let ok = true;
      if (state === Attempt.Busy) ok = this.#ring.lockSendSync(wait.deadline);
      else if (this.#ring.beginSendSleep(this.#sent.epoch)) {
        try {
          ok = this.#w.waitSync(Ring.ROOM_EPOCH, this.#sent.epoch, wait.deadline);
        } finally {
          this.#ring.endSendSleep();
        }
      }
      if (!ok) throw timeoutError(`${this.describe()} send`, wait.timeout ?? 0);
    }
  }

  async #sendMany(list: readonly Uint8Array[], wait: ParsedWait): Promise<void> {
    let from = 0;
    let signal: AbortSignal | undefined;
    for (;;) {
      this.ensureOpen();
      const { next, state } = this.#trySendFrom(list, from);
      from = next;
      if (state === Attempt.Done) return;
      signal ??= this.#closer.signal(wait.signal);
      let ok = true;
      if (state === Attempt.Busy) ok = await this.#ring.lockSend(wait.deadline, signal);
      else if (this.#ring.beginSendSleep(this.#sent.epoch)) {
        try {
          ok = await this.#w.waitAsync(Ring.ROOM_EPOCH, this.#sent.epoch, wait.deadline, signal);
        } finally {
          if (!this.closed) this.#ring.endSendSleep();
        }
      }
      if (!ok) throw timeoutError(`${this.describe()} send`, wait.timeout ?? 0);
    }
  }

  /** Sends one message, waiting for room; never blocks the event loop. */
  async send(data: ChannelData, options?: WaitOptions): Promise<void> {
    this.ensureOpen();
    const one = this.#one;
    one[0] = this.#bytes(data);
    if (options === undefined && this.#ring.trySend(one, 0, this.#sent) === Attempt.Done) return;
    const list = [one[0]];
    const wait = parseWait(options, "send");
    if (wait.signal?.aborted) throw wait.signal.reason;
    await this.#sendMany(list, wait);
  }

  /** Sends one message, blocking this thread while the ring is full. */
  sendSync(data: ChannelData, options?: SyncWaitOptions): void {
    this.ensureOpen();
    const one = this.#one;
    one[0] = this.#bytes(data);
    if (this.#ring.trySend(one, 0, this.#sent) === Attempt.Done) return;
    this.#sendManySync([one[0]], parseWait(options, "sendSync"));
  }

  /** Sends if there is room now; false otherwise (also when another sender holds the ring). */
  trySend(data: ChannelData): boolean {
    this.ensureOpen();
    const one = this.#one;
    one[0] = this.#bytes(data);
    return this.#ring.trySend(one, 0, this.#sent) === Attempt.Done;
  }

  /** Sends every message in order, committing as many as fit at a time. */
  async sendMany(list: readonly ChannelData[], options?: WaitOptions): Promise<void> {
    this.ensureOpen();
    const bytes = this.#list(list);
    const wait = parseWait(options, "sendMany");
    if (wait.signal?.aborted) throw wait.signal.reason;
    await this.#sendMany(bytes, wait);
  }

  sendManySync(list: readonly ChannelData[], options?: SyncWaitOptions): void {
    this.ensureOpen();
    this.#sendManySync(this.#list(list), parseWait(options, "sendManySync"));
  }

  /** Sends as many as fit now, in order; returns how many were sent. */
  trySendMany(list: readonly ChannelData[]): number {
    this.ensureOpen();
    return this.#trySendFrom(this.#list(list), 0).next;
  }

  // ---- receiving ----

  #spinForData(): void {
    const i32 = this.#w.i32;
    const tail = this.#seen.tail;
    for (let i = 0; i < JS_SPINS && Atomics.load(i32, Ring.TAIL) === tail; i++);
  }

  #receiveManySync(max: number, wait: ParsedWait, into?: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (;;) {
      const state = this.#ring.tryReceive(max, out, this.#seen, into);
      if (state === Attempt.Done) return out;
      let ok = true;
      if (state === Attempt.Busy) ok = this.#ring.lockRecvSync(wait.deadline);
      else {
        this.#spinForData();
        if (this.#ring.beginRecvSleep(this.#seen.tail)) {
          try {
            ok = this.#w.waitSync(Ring.TAIL, this.#seen.tail, wait.deadline);
          } finally {
            this.#ring.endRecvSleep();
          }
        }
      }
      if (!ok) throw timeoutError(`${this.describe()} receive`, wait.timeout ?? 0);
    }
  }

  async #receiveMany(max: number, wait: ParsedWait, into?: Uint8Array): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    let signal: AbortSignal | undefined;
    for (;;) {
      this.ensureOpen();
      const state = this.#ring.tryReceive(max, out, this.#seen, into);
      if (state === Attempt.Done) return out;
      signal ??= this.#closer.signal(wait.signal);
      let ok = true;
      if (state === Attempt.Busy) ok = await this.#ring.lockRecv(wait.deadline, signal);
      else if (this.#ring.beginRecvSleep(this.#seen.tail)) {
        try {
          ok = await this.#w.waitAsync(Ring.TAIL, this.#seen.tail, wait.deadline, signal);
        } finally {
          if (!this.closed) this.#ring.endRecvSleep();
        }
      }
      if (!ok) throw timeoutError(`${this.describe()} receive`, wait.timeout ?? 0);
    }
  }

  /** Resolves with the next message (a copy out of the ring); never blocks the event loop. */
  async receive(options?: WaitOptions): Promise<Uint8Array> {
    this.ensureOpen();
    if (options === undefined) {
      const fast = this.#tryOne();
      if (fast !== undefined) return fast;
    }
    const wait = parseWait(options, "receive");
    if (wait.signal?.aborted) throw wait.signal.reason;
    return (await this.#receiveMany(1, wait))[0]!;
  }

  /** The next message, blocking this thread (after a short spin) while the ring is empty. */
  receiveSync(options?: SyncWaitOptions): Uint8Array {
    this.ensureOpen();
    const fast = this.#tryOne();
    if (fast !== undefined) return fast;
    return this.#receiveManySync(1, parseWait(options, "receiveSync"))[0]!;
  }

  #tryOne(): Uint8Array | undefined {
    const got = this.#got;
    if (this.#ring.tryReceive(1, got, this.#seen) !== Attempt.Done) return undefined;
    return got.pop();
  }

  /** The next message if one is there now; undefined otherwise. */
  tryReceive(): Uint8Array | undefined {
    this.ensureOpen();
    return this.#tryOne();
  }

  /** Waits for at least one message, then returns up to `max` that are there. */
  async receiveMany(max: number, options?: WaitOptions): Promise<Uint8Array[]> {
    this.ensureOpen();
    const n = checkMax(max);
    const wait = parseWait(options, "receiveMany");
    if (wait.signal?.aborted) throw wait.signal.reason;
    return this.#receiveMany(n, wait);
  }

  receiveManySync(max: number, options?: SyncWaitOptions): Uint8Array[] {
    this.ensureOpen();
    return this.#receiveManySync(checkMax(max), parseWait(options, "receiveManySync"));
  }

  /** Up to `max` messages that are there now (possibly none). */
  tryReceiveMany(max: number): Uint8Array[] {
    this.ensureOpen();
    const out: Uint8Array[] = [];
    this.#ring.tryReceive(checkMax(max), out, this.#seen);
    return out;
  }

  // ---- receiving into a caller's buffer (no allocation per message: large payloads) ----

  #target(buffer: unknown): Uint8Array {
    if (buffer instanceof Uint8Array) return buffer;
    if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
    throw invalidArgument(`receiveInto needs a Uint8Array, Buffer, ArrayBuffer or typed array, got ${describeValue(buffer)}`);
  }

  /**
   * Copies the next message into `buffer` and resolves with a view of it (`buffer` itself,
   * trimmed to the message). A message larger than `buffer` is ERR_IPC_TOO_LARGE and stays queued.
   */
  async receiveInto(buffer: Uint8Array | ArrayBufferView | ArrayBuffer, options?: WaitOptions): Promise<Uint8Array> {
    this.ensureOpen();
    const target = this.#target(buffer);
    const wait = parseWait(options, "receiveInto");
    if (wait.signal?.aborted) throw wait.signal.reason;
    return (await this.#receiveMany(1, wait, target))[0]!;
  }

  receiveIntoSync(buffer: Uint8Array | ArrayBufferView | ArrayBuffer, options?: SyncWaitOptions): Uint8Array {
    this.ensureOpen();
    return this.#receiveManySync(1, parseWait(options, "receiveIntoSync"), this.#target(buffer))[0]!;
  }

  tryReceiveInto(buffer: Uint8Array | ArrayBufferView | ArrayBuffer): Uint8Array | undefined {
    this.ensureOpen();
    const out: Uint8Array[] = [];
    this.#ring.tryReceive(1, out, this.#seen, this.#target(buffer));
    return out[0];
  }

  /** Receives until the channel is closed (by this process). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    while (!this.closed) {
      try {
        yield await this.receive();
      } catch (error) {
        if (this.closed && (error as IpcError).code === "ERR_IPC_CLOSED") return;
        throw error;
      }
    }
  }

  protected describe(): string {
    return `Channel ${JSON.stringify(this.#w.name)}`;
  }

  protected freeResources(): void {
    this.#closer.close(this.describe());
    this.#w.close();
  }
}
