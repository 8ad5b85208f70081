import type { Socket } from "node:net";
import process from "node:process";
import { clientHandshake, checkAuthKey, HANDSHAKE_MAX, serverHandshake, type FrameIo } from "./auth.js";
import { getCodec, toBytes, type Codec, type CodecName } from "./codec.js";
import { IpcError, closedError, invalidArgument } from "./errors.js";
import { DEFAULT_MAX_MESSAGE_SIZE, FrameDecoder, frameHeader, frameSmall, MAX_MESSAGE_SIZE_LIMIT, tooLarge } from "./framing.js";
import { Handle } from "./handle.js";
import { checkInteger, checkOptions, checkSignal, checkTimeout, describeValue } from "./validate.js";
import { WaitQueue, type WaitOptions } from "./waiters.js";
import { socketError, socketFd, socketFromFd } from "./fallback/net-transport.js";

export type Framing = "frames" | "raw";

/** Options every way of making a Connection shares. */
export interface ConnectionOptions {
  /** How values become bytes (framed connections only). Default "auto": bytes as bytes, anything else as JSON. */
  codec?: CodecName;
  /** "frames" (default): whole length-prefixed messages. "raw": a plain byte stream for peers that do not speak ipckit. */
  framing?: Framing;
  /** Largest message sent or accepted, in bytes. Default 64 MiB. Larger ones fail with ERR_IPC_TOO_LARGE. */
  maxMessageSize?: number;
}

export interface AuthOptions {
  /** Shared secret; both sides prove they know it (HMAC challenge) before any message passes. */
  authKey?: string | Uint8Array;
  /** How long the authentication may take, in ms. Default 10000. */
  handshakeTimeout?: number;
}

export interface ReceiveOptions extends WaitOptions {}

export interface ResolvedConnectionOptions {
  codec: Codec;
  raw: boolean;
  maxMessageSize: number;
}

export function resolveConnectionOptions(opts: Partial<ConnectionOptions>): ResolvedConnectionOptions {
  const framing = opts.framing ?? "frames";
  if (framing !== "frames" && framing !== "raw") throw invalidArgument(`framing must be "frames" or "raw", got ${describeValue(framing)}`);
  const maxMessageSize =
    opts.maxMessageSize === undefined ? DEFAULT_MAX_MESSAGE_SIZE : checkInteger(opts.maxMessageSize, "maxMessageSize", 1, MAX_MESSAGE_SIZE_LIMIT);
  if (framing === "raw" && opts.codec !== undefined && opts.codec !== "bytes") {
    throw invalidArgument('framing "raw" carries bytes only: leave codec unset or use "bytes"');
  }
  return { codec: getCodec(opts.codec, framing === "raw" ? "bytes" : "auto"), raw: framing === "raw", maxMessageSize };
}

export interface ResolvedAuth {
  key: Uint8Array | undefined;
  handshakeTimeout: number;
}

export function resolveAuth(opts: Partial<AuthOptions>, raw: boolean): ResolvedAuth {
  const key = checkAuthKey(opts.authKey);
  if (key !== undefined && raw) throw invalidArgument('authKey needs framing "frames": a raw byte stream has no handshake');
  const handshakeTimeout = opts.handshakeTimeout === undefined ? 10_000 : checkTimeout(opts.handshakeTimeout)!;
  return { key, handshakeTimeout };
}

const CHALLENGE = new TextEncoder().encode("#CHALLENGE#");

function startsWithChallenge(payload: Uint8Array): boolean {
  if (payload.length < CHALLENGE.length) return false;
  for (let i = 0; i < CHALLENGE.length; i++) if (payload[i] !== CHALLENGE[i]) return false;
  return true;
}

/** Above this a message is written as header + payload (no copy); below, as one joined buffer (one syscall). */
const JOIN_LIMIT = 64 * 1024;
const NO_WAIT_OPTIONS = Object.freeze({});

/** Stop reading from the socket while this much is received but not yet taken. */
const INBOX_HIGH_WATER = 1024;

/**
 * A duplex message channel over a socket: length-prefixed frames, each decoded by the codec, or
 * (framing "raw") a plain byte stream. Made by `Pipe()`, `connect()`, a `Listener`, or
 * `Connection.fromFd()` in a child that inherited one end.
 */
export class Connection extends Handle {
  #socket: Socket | undefined;
  readonly #codec: Codec;
  readonly #raw: boolean;
  readonly #max: number;
  readonly #inbox = new WaitQueue<Uint8Array>();
  readonly #decoder: FrameDecoder | undefined;
  /** Writes made before the socket exists (the second end of a JS-backend Pipe). */
  #pending: Uint8Array[] | undefined;
  #ready: Promise<void>;
  /** Set once the peer is gone or the stream broke: sends fail with it. */
  #gone: IpcError | undefined;
  #paused = false;
  #handedOff = false;
  #peerEnded = false;
  /** Counts reads; a send in the same epoch as the previous one is part of a burst. */
  #readEpoch = 0;
  #sendEpoch = -1;
  #corked = false;
  /** A keyless client: a challenge as first frame means the server wants an authKey. */
  #refuseChallenge = false;
  #frames = 0;
  #label: string;

  /** @internal Use Pipe(), connect(), Listener.accept() or Connection.fromFd(). */
  constructor(socket: Socket | Promise<Socket>, options: ResolvedConnectionOptions, label: string) {
    super();
    this.#codec = options.codec;
    this.#raw = options.raw;
    this.#max = options.maxMessageSize;
    this.#label = label;
    if (!this.#raw) {
      this.#decoder = new FrameDecoder(this.#max, {
        frame: (payload) => this.#deliver(payload),
        corrupt: (error) => this.#broken(error),
      });
    }
    if (socket instanceof Promise) {
      this.#pending = [];
      this.#ready = socket.then(
        (s) => this.#attach(s),
        (error: unknown) => this.#broken(error instanceof IpcError ? error : socketError(error, "connect")),
      );
    } else {
      this.#attach(socket);
      this.#ready = Promise.resolve();
    }
  }

  /**
   * Continues a conversation on a descriptor inherited from a parent (a stdio slot given to
   * `spawn`, see `spawnWithConnection`). Both sides must agree on codec and framing.
   */
  static fromFd(fd: number, options?: ConnectionOptions): Connection {
    checkInteger(fd, "fd", 0, 2 ** 31 - 1);
    const opts = resolveConnectionOptions(checkOptions<ConnectionOptions>(options, "Connection.fromFd"));
    return new Connection(socketFromFd(fd), opts, `Connection(fd ${fd})`);
  }

  #attach(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.#socket = socket;
    socket.setNoDelay?.(true);
    socket.on("data", (chunk: Uint8Array) => {
      this.#readEpoch++;
      if (this.#decoder !== undefined) this.#decoder.push(chunk);
      else this.#deliver(chunk);
    });
    socket.on("end", () => {
      if (this.#decoder !== undefined && !this.#decoder.atBoundary) {
        this.#broken(new IpcError("ERR_IPC_CLOSED", `${this.#label}: the peer closed the connection in the middle of a message; the partial message was discarded`));
      } else if (this.#raw) {
        // A raw peer that shut down its side may still read our reply (half-close).
        this.#peerEnded = true;
        this.#inbox.fail(new IpcError("ERR_IPC_CLOSED", `${this.#label}: the peer finished sending`));
      } else {
        this.#broken(new IpcError("ERR_IPC_CLOSED", `${this.#label}: the peer closed the connection`), true);
        socket.end();
      }
    });
    socket.on("error", (error) => this.#broken(socketError(error, "socket")));
    socket.on("close", () => this.#broken(new IpcError("ERR_IPC_CLOSED", `${this.#label}: the connection closed`), true));
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined && pending.length > 0) {
      socket.cork();
      for (const chunk of pending) socket.write(chunk);
      socket.uncork();
    }
  }

  #deliver(payload: Uint8Array): void {
    if (this.#refuseChallenge && this.#frames++ === 0 && startsWithChallenge(payload)) {
      this.#broken(new IpcError("ERR_IPC_PERMISSION", `${this.#label}: the server requires an authKey`));
      return;
    }
    this.#inbox.push(payload);
    if (!this.#paused && this.#inbox.length >= INBOX_HIGH_WATER) {
      this.#paused = true;
      this.#socket?.pause();
    }
  }

  /** The stream ended or broke: what is queued stays receivable, then receive fails with `error`. */
  #broken(error: IpcError, clean = false): void {
    if (this.#gone !== undefined) return;
    this.#gone = error;
    if (!clean) this.#decoder?.reset();
    this.#inbox.fail(error);
    if (!clean) this.#socket?.destroy();
  }

  /** The descriptor, where the runtime exposes one (to pass to a child's stdio). */
  get fd(): number | undefined {
    return this.#socket === undefined ? undefined : socketFd(this.#socket);
  }

  /** Resolves once the underlying socket exists (immediately, except for a JS-backend Pipe's second end). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  get codec(): CodecName {
    return this.#codec.name;
  }

  get framing(): Framing {
    return this.#raw ? "raw" : "frames";
  }

  get maxMessageSize(): number {
    return this.#max;
  }

  #write(chunk: Uint8Array): boolean {
    const socket = this.#socket;
    if (socket === undefined) {
      this.#pending!.push(chunk);
      return true;
    }
    this.#batch(socket);
    return socket.write(chunk);
  }

  /**
   * A send right after something arrived goes straight out (a request/reply pays nothing
   * extra). Sends that follow sends with nothing received in between are a burst: the socket is
   * corked until the next tick (which comes after pending microtasks, so a loop of
   * `await send()` batches too) and the burst leaves in one writev. Measured: one syscall per
   * small message was the sender's whole cost.
   */
  #batch(socket: Socket): void {
    if (this.#sendEpoch !== this.#readEpoch) {
      this.#sendEpoch = this.#readEpoch;
      return;
    }
    if (this.#corked) return;
    this.#corked = true;
    socket.cork();
    process.nextTick(this.#uncork);
  }

  readonly #uncork = (): void => {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket?.uncork();
  };

  /** Queues one frame; true while the socket's buffer is below its high-water mark. */
  #sendPayload(payload: Uint8Array): boolean {
    if (this.#raw) return this.#write(payload);
    const socket = this.#socket;
    if (payload.length <= JOIN_LIMIT || socket === undefined) return this.#write(frameSmall(payload));
    // Header and payload in one writev, without copying the payload; no batching (a large
    // frame fills the socket by itself), but a burst corked before it leaves first, in order.
    if (this.#corked) this.#uncork();
    this.#sendEpoch = this.#readEpoch;
    socket.cork();
    socket.write(frameHeader(payload.length));
    const below = socket.write(payload);
    socket.uncork();
    return below;
  }

  #checkSend(value: unknown): Uint8Array {
    this.ensureOpen();
    if (this.#gone !== undefined) throw this.#gone;
    const payload = this.#raw ? toBytes(value) : this.#codec.encode(value);
    if (payload.length > this.#max) throw tooLarge(payload.length, this.#max, "send");
    return payload;
  }

  /**
   * Sends one message. Resolves when the socket can take more (backpressure); do not change a
   * sent buffer until then. Rejects with ERR_IPC_TOO_LARGE (nothing sent) or ERR_IPC_CLOSED.
   */
  send(value: unknown): Promise<void> {
    let below: boolean;
    try {
      below = this.#sendPayload(this.#checkSend(value));
    } catch (error) {
      return Promise.reject(error);
    }
    if (below) return Promise.resolve();
    return this.#drained();
  }

  /** Sends without waiting for buffer space (the socket buffers the rest in memory). */
  trySend(value: unknown): boolean {
    return this.#sendPayload(this.#checkSend(value));
  }

  #drained(): Promise<void> {
    const socket = this.#socket!;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        socket.off("drain", done);
        socket.off("close", done);
        if (this.#gone !== undefined && !socket.writableFinished && socket.writableLength > 0) reject(this.#gone);
        else resolve();
      };
      socket.on("drain", done);
      socket.on("close", done);
    });
  }

  #decode(payload: Uint8Array): unknown {
    if (this.#paused && this.#inbox.length < INBOX_HIGH_WATER / 2) {
      this.#paused = false;
      this.#socket?.resume();
    }
    return this.#raw ? payload : this.#codec.decode(payload);
  }

  /**
   * The next message (framed), or the next chunk of bytes (raw). Rejects with ERR_IPC_CLOSED
   * when the peer has closed and nothing is left, ERR_IPC_TIMEOUT, or the signal's reason.
   */
  receive(options?: ReceiveOptions): Promise<unknown> {
    if (this.closed) return Promise.reject(closedError(this.#label));
    if (options === undefined) return this.#inbox.shift(NO_WAIT_OPTIONS, this.#decodeItem);
    try {
      const opts = checkOptions<ReceiveOptions>(options, "receive");
      return this.#inbox.shift({ timeout: checkTimeout(opts.timeout), signal: checkSignal(opts.signal) }, this.#decodeItem);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  readonly #decodeItem = (payload: Uint8Array): unknown => this.#decode(payload);

  /** A message already received, or undefined. */
  tryReceive(): unknown {
    this.ensureOpen();
    const payload = this.#inbox.tryShift();
    if (payload === undefined) {
      if (this.#inbox.failed) throw this.#inbox.failure;
      return undefined;
    }
    return this.#decode(payload);
  }

  /** Sockets are driven by the event loop: a blocking form would never see its reply. */
  sendSync(_value: unknown): never {
    throw new IpcError("ERR_IPC_UNSUPPORTED", "Connection.sendSync is not available: sockets are served by the event loop; use send()");
  }

  receiveSync(_options?: { timeout?: number }): never {
    throw new IpcError("ERR_IPC_UNSUPPORTED", "Connection.receiveSync is not available: sockets are served by the event loop; use receive()");
  }

  /**
   * Received values until the peer closes cleanly; a broken stream throws. Hand-written rather
   * than an async generator: one Promise per message instead of several.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    const done: IteratorReturnResult<undefined> = { value: undefined, done: true };
    const toResult = (payload: Uint8Array): IteratorResult<unknown> => ({ value: this.#decode(payload), done: false });
    const toDone = (error: unknown): IteratorResult<unknown> => {
      if (this.closed || (error instanceof IpcError && error.code === "ERR_IPC_CLOSED" && this.#cleanEnd())) return done;
      throw error;
    };
    const iterator: AsyncIterableIterator<unknown> = {
      next: () => (this.closed ? Promise.resolve(done) : this.#inbox.shift(NO_WAIT_OPTIONS, toResult, toDone)),
      return: () => Promise.resolve(done),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  #cleanEnd(): boolean {
    if (this.#peerEnded) return true;
    return this.#gone !== undefined && !this.#gone.message.includes("middle of a message") && this.#gone.code === "ERR_IPC_CLOSED";
  }

  /** @internal connect() without an authKey. */
  refuseChallenge(): void {
    this.#refuseChallenge = true;
  }

  /**
   * Finishes sending: the peer sees the end of the stream after what was already sent, and we
   * can still receive (what a plain, non-ipckit server may wait for before replying).
   */
  end(): void {
    this.ensureOpen();
    if (this.#socket === undefined) {
      void this.#ready.then(() => this.#socket?.end());
      return;
    }
    this.#socket.end();
  }

  /** @internal The frame-level view the handshake uses. */
  frameIo(timeout: number): FrameIo {
    return {
      sendBytes: (payload) => void this.#write(frameSmall(payload)),
      receiveBytes: async () => {
        const payload = await this.#inbox.shift({ timeout });
        if (payload.length > HANDSHAKE_MAX) throw new IpcError("ERR_IPC_PERMISSION", "authentication failed: oversized handshake message");
        return payload;
      },
    };
  }

  /** @internal Runs the HMAC handshake; on failure the connection is closed. */
  async authenticate(key: Uint8Array, side: "server" | "client", timeout: number): Promise<void> {
    try {
      const io = this.frameIo(timeout);
      await (side === "server" ? serverHandshake(io, key) : clientHandshake(io, key));
    } catch (error) {
      this.close();
      if (error instanceof IpcError && error.code === "ERR_IPC_TIMEOUT") {
        throw new IpcError("ERR_IPC_PERMISSION", `authentication failed: no answer within ${timeout} ms (does the peer use an authKey?)`);
      }
      if (error instanceof IpcError && error.code === "ERR_IPC_CLOSED") {
        throw new IpcError("ERR_IPC_PERMISSION", "authentication failed: the peer closed the connection during the handshake (wrong authKey?)");
      }
      throw error;
    }
  }

  /** @internal Closes this copy of a descriptor a child now owns, without shutting the socket down. */
  handOff(): void {
    this.#handedOff = true;
    this.close();
  }

  protected describe(): string {
    return this.#label;
  }

  protected freeResources(): void {
    const error = new IpcError("ERR_IPC_CLOSED", `${this.#label} is closed`);
    this.#gone ??= error;
    this.#inbox.clear(error);
    const socket = this.#socket;
    if (socket === undefined) return;
    // end() lets queued writes reach the peer; destroy once they have (or at once if broken).
    if (socket.destroyed) return;
    if (this.#handedOff) {
      socket.destroy();
      return;
    }
    socket.end(() => socket.destroy());
    setTimeout(() => socket.destroy(), 5000).unref?.();
  }
}
