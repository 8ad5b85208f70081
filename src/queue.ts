import { backend, capabilities, unsupported } from "./backend.js";
import { Channel } from "./channel.js";
import { IpcError } from "./errors.js";
import { DEFAULT_QUEUE_CODEC, codecById, codecByName, type QueueCodecName, type ValueCodec } from "./queue-codec.js";
import type { SyncWaitOptions, WaitOptions } from "./shared/waiting.js";
import { SocketQueueTransport } from "./fallback/queue-client.js";
import { checkInteger, checkMode, checkObjectName, checkOptions } from "./validate.js";

export type { QueueCodecName } from "./queue-codec.js";

export interface QueueCreateOptions {
  /** Most items held at once; `put` waits (and `putNowait` throws) while full. 0: no limit. Default 0. */
  maxsize?: number;
  /** How values become bytes (src/codec.ts). Default "structured" (V8 serialization); "msgpack" under Bun. */
  codec?: QueueCodecName;
  /** Bytes of the underlying Channel's ring (one encoded item must fit). Default 1 MiB. js backend: the largest encoded item (default: no limit). */
  capacity?: number;
  mode?: number;
}

const API = "Queue";

/** The js backend's Queue: hosted by its creator and reached over a Unix socket. */
function socketQueue(api: string): boolean {
  if (backend !== "js") return false;
  if (!capabilities.queue) throw unsupported("queue", api);
  return true;
}

/**
 * The Queue's seam to its transport: a shared-memory Channel where native; under the js backend
 * a socket to the process that created the queue, which hosts it in a worker (fallback/queue-client.ts).
 */
interface Transport {
  send(bytes: Uint8Array, options?: WaitOptions): Promise<void>;
  sendSync(bytes: Uint8Array, options?: SyncWaitOptions): void;
  trySend(bytes: Uint8Array): boolean;
  receive(options?: WaitOptions): Promise<Uint8Array>;
  receiveSync(options?: SyncWaitOptions): Uint8Array;
  tryReceive(): Uint8Array | undefined;
  readonly pending: number;
  readonly closed: boolean;
  close(): void;
}

/**
 * multiprocessing.Queue for JS values: any number of producers and consumers in any processes.
 * Native: built on a shared-memory Channel (one message per item), so items move at Channel speed.
 * js backend: the creating process hosts the queue (in a worker) and the others reach it by socket.
 */
export class Queue {
  readonly #name: string;
  readonly #transport: Transport;
  readonly #codec: ValueCodec;
  readonly #maxsize: number;

  private constructor(name: string, transport: Transport, codec: ValueCodec, maxsize: number) {
    this.#name = name;
    this.#transport = transport;
    this.#codec = codec;
    this.#maxsize = maxsize;
  }

  static create(name: string, options?: QueueCreateOptions): Queue {
    const opts = checkOptions<QueueCreateOptions>(options, "Queue.create");
    const codec = codecByName(opts.codec ?? DEFAULT_QUEUE_CODEC);
    const maxsize = checkInteger(opts.maxsize ?? 0, "maxsize", 0, 0x7fffffff);
    if (socketQueue(`${API}.create`)) {
      const checked = checkObjectName(name);
      checkMode(opts.mode);
      const maxItem = opts.capacity === undefined ? 0 : checkInteger(opts.capacity, "capacity", 1, 0x7fffffff);
      const transport = SocketQueueTransport.create(checked, { maxsize, codecId: codec.id, maxItem });
      return new Queue(checked, transport, codec, maxsize);
    }
    const channel = Channel.createInternal(name, {
      ...(opts.capacity === undefined ? {} : { capacity: opts.capacity }),
      mode: checkMode(opts.mode),
      maxMessages: maxsize,
      tag: codec.id,
    });
    return new Queue(channel.name, channel, codec, channel.maxMessages);
  }

  static open(name: string): Queue {
    if (socketQueue(`${API}.open`)) {
      const checked = checkObjectName(name);
      const transport = SocketQueueTransport.open(checked);
      const codec = codecById(transport.info.codecId);
      if (codec === undefined) {
        transport.close();
        throw new IpcError("ERR_IPC_PROTOCOL", `Queue ${JSON.stringify(name)} uses codec id ${transport.info.codecId}, unknown here`);
      }
      return new Queue(checked, transport, codec, transport.info.maxsize);
    }
    const channel = Channel.open(name);
    const codec = codecById(channel.tag);
    if (codec === undefined) {
      channel.close();
      throw new IpcError("ERR_IPC_INVALID_ARGUMENT", `${JSON.stringify(name)} is a Channel, not a Queue (no codec recorded)`);
    }
    return new Queue(channel.name, channel, codec, channel.maxMessages);
  }

  /** Removes the name (open handles keep working). Under the js backend: the socket file that opens use. */
  static unlink(name: string): void {
    if (socketQueue(`${API}.unlink`)) SocketQueueTransport.unlink(checkObjectName(name));
    else Channel.unlink(name);
  }

  get name(): string {
    return this.#name;
  }

  get maxsize(): number {
    return this.#maxsize;
  }

  get codec(): QueueCodecName {
    return this.#codec.name;
  }

  get closed(): boolean {
    return this.#transport.closed;
  }

  /** Puts a value, waiting while the queue is full; never blocks the event loop. */
  async put(value: unknown, options?: WaitOptions): Promise<void> {
    const bytes = this.#encode(value);
    await this.#transport.send(bytes, options);
  }

  putSync(value: unknown, options?: SyncWaitOptions): void {
    this.#transport.sendSync(this.#encode(value), options);
  }

  /** Puts without waiting; throws ERR_IPC_BUSY when the queue is full (Python's queue.Full). */
  putNowait(value: unknown): void {
    if (!this.#transport.trySend(this.#encode(value))) {
      throw new IpcError("ERR_IPC_BUSY", `${this.#describe()} is full`);
    }
  }

  /** Resolves with the next value, waiting while the queue is empty. */
  async get(options?: WaitOptions): Promise<unknown> {
    return this.#codec.decode(await this.#transport.receive(options));
  }

  getSync(options?: SyncWaitOptions): unknown {
    return this.#codec.decode(this.#transport.receiveSync(options));
  }

  /** The next value without waiting; throws ERR_IPC_BUSY when empty (Python's queue.Empty). */
  getNowait(): unknown {
    const bytes = this.#transport.tryReceive();
    if (bytes === undefined) throw new IpcError("ERR_IPC_BUSY", `${this.#describe()} is empty`);
    return this.#codec.decode(bytes);
  }

  /** Items in the queue now (approximate while others put and get, as in Python). */
  qsize(): number {
    return this.#transport.pending;
  }

  empty(): boolean {
    return this.qsize() === 0;
  }

  full(): boolean {
    return this.#maxsize > 0 && this.qsize() >= this.#maxsize;
  }

  close(): void {
    this.#transport.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  unlink(): void {
    Queue.unlink(this.#name);
  }

  #encode(value: unknown): Uint8Array {
    if (this.#transport.closed) throw new IpcError("ERR_IPC_CLOSED", `${this.#describe()} is closed`);
    return this.#codec.encode(value);
  }

  #describe(): string {
    return `Queue ${JSON.stringify(this.#name)}`;
  }
}
