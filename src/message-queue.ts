import { callNative, nativeFor, type Binding } from "./backend.js";
import { FastPath, nowOrWait } from "./cancellable.js";
import { Handle } from "./handle.js";
import { ReceivePool } from "./receive-pool.js";
import { receiveUntilClosed } from "./receive-until-closed.js";
import {
  checkBoolean,
  checkBytes,
  checkInteger,
  checkMode,
  checkObjectName,
  checkOptions,
  checkSignal,
  checkTimeout,
} from "./validate.js";

type NativeQueue = InstanceType<Binding["NativeMessageQueue"]>;
type FastHandle = ReturnType<NativeQueue["fastHandle"]>;
type HotCalls = ReturnType<Binding["mqFastPath"]>;

/** Bytes to send: a Uint8Array (or Buffer), another ArrayBuffer view, an ArrayBuffer, or a string (sent as UTF-8). */
export type MessageData = Uint8Array | ArrayBufferView | ArrayBuffer | string;

export interface MessageQueueOpenOptions {
  /** Create the queue if it does not exist. Default false. */
  create?: boolean;
  /** With `create`, refuse an existing queue with ERR_IPC_EXISTS. Default false. */
  exclusive?: boolean;
  /** Capacity in messages when creating (at most fs.mqueue.msg_max, 10 by default on Linux). */
  maxMessages?: number;
  /** Largest message in bytes when creating (at most fs.mqueue.msgsize_max, 8192 by default). */
  messageSize?: number;
  /** Permission bits of a created queue, applied exactly. Default 0o600. */
  mode?: number;
}

export interface WaitOptions {
  /** Milliseconds to wait before failing with ERR_IPC_TIMEOUT. Default: forever. */
  timeout?: number;
  /** Ends the wait, rejecting with the signal's reason; nothing is sent or consumed. */
  signal?: AbortSignal;
}

export interface MessageQueueSendOptions extends WaitOptions {
  /** 0 to MQ_PRIO_MAX - 1 (32767 on Linux); higher priorities are received first. Default 0. */
  priority?: number;
}

export interface MessageQueueMessage {
  data: Uint8Array;
  priority: number;
}

export interface MessageQueueAttributes {
  maxMessages: number;
  messageSize: number;
  currentMessages: number;
}

const API = "MessageQueue";

function native(): Binding {
  return nativeFor("messageQueue", API);
}

let prioMax: number | undefined;

function checkPriority(binding: Binding, value: unknown): number {
  if (value === undefined) return 0;
  prioMax ??= binding.mqPrioMax();
  return checkInteger(value, "priority", 0, prioMax - 1);
}

function checkSize(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  return checkInteger(value, what, 1, 2 ** 31 - 1);
}

/**
 * A POSIX message queue (mq_open): a kernel object any process can open by name, holding
 * messages of up to `messageSize` bytes, received highest priority first.
 */
export class MessageQueue extends Handle implements AsyncIterable<MessageQueueMessage> {
  readonly #binding: Binding;
  readonly #queue: NativeQueue;
  /** For the Sync and try forms: free native functions, much cheaper to call than methods. */
  readonly #fast: FastHandle;
  /** Hand-written Node-API callbacks for the Sync and try forms (no per-call napi-rs scope). */
  readonly #calls: HotCalls;
  readonly #pool: ReceivePool;
  readonly #streak = new FastPath();
  readonly #name: string;

  private constructor(binding: Binding, queue: NativeQueue) {
    super();
    this.#binding = binding;
    this.#queue = queue;
    this.#fast = queue.fastHandle();
    this.#calls = binding.mqFastPath();
    this.#pool = new ReceivePool(queue.attributes().messageSize);
    this.#name = queue.name;
  }

  /** Opens (or with `create`, creates) the queue `name` (`"jobs"` and `"/jobs"` are the same queue). */
  static open(name: string, options?: MessageQueueOpenOptions): MessageQueue {
    const binding = native();
    const objectName = checkObjectName(name);
    const opts = checkOptions<MessageQueueOpenOptions>(options, "MessageQueue.open");
    const create = checkBoolean(opts.create, "create", false);
    const exclusive = checkBoolean(opts.exclusive, "exclusive", false);
    const maxMessages = checkSize(opts.maxMessages, "maxMessages");
    const messageSize = checkSize(opts.messageSize, "messageSize");
    const mode = checkMode(opts.mode);
    const queue = callNative(() =>
      binding.NativeMessageQueue.open(objectName, create, exclusive, maxMessages, messageSize, mode),
    );
    return new MessageQueue(binding, queue);
  }

  /** Removes the name; the queue lives on until every process has closed it. */
  static unlink(name: string): void {
    const binding = native();
    const objectName = checkObjectName(name);
    callNative(() => binding.mqUnlink(objectName));
  }

  /** The POSIX name, e.g. `/jobs`. */
  get name(): string {
    return this.#name;
  }

  get attributes(): MessageQueueAttributes {
    this.ensureOpen();
    return callNative(() => this.#queue.attributes());
  }

  unlink(): void {
    MessageQueue.unlink(this.#name);
  }

  /** Queues a message, waiting (without blocking the event loop) while the queue is full. */
  async send(data: MessageData, options?: MessageQueueSendOptions): Promise<void> {
    this.ensureOpen();
    const bytes = checkBytes(data);
    const opts = checkOptions<MessageQueueSendOptions>(options, "send");
    const priority = checkPriority(this.#binding, opts.priority);
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    await nowOrWait(
      this.#streak,
      this.#binding,
      signal,
      () => callNative(() => this.#calls.trySend(this.#fast, bytes, priority)) || undefined,
      (cancel) => this.#queue.send(bytes, priority, timeout, cancel),
    );
  }

  /** Queues a message, blocking this thread while the queue is full (up to `timeout` ms). */
  sendSync(data: MessageData, options?: Omit<MessageQueueSendOptions, "signal">): void {
    this.ensureOpen();
    const bytes = checkBytes(data);
    const opts = checkOptions<MessageQueueSendOptions>(options, "sendSync");
    const priority = checkPriority(this.#binding, opts.priority);
    const timeout = checkTimeout(opts.timeout);
    callNative(() => this.#calls.sendSync(this.#fast, bytes, priority, timeout));
  }

  /** Queues a message if there is room now; false if the queue is full. */
  trySend(data: MessageData, options?: { priority?: number }): boolean {
    this.ensureOpen();
    const bytes = checkBytes(data);
    const opts = checkOptions<MessageQueueSendOptions>(options, "trySend");
    const priority = checkPriority(this.#binding, opts.priority);
    return callNative(() => this.#calls.trySend(this.#fast, bytes, priority));
  }

  /** The highest-priority message, waiting (without blocking the event loop) while the queue is empty. */
  async receive(options?: WaitOptions): Promise<MessageQueueMessage> {
    this.ensureOpen();
    const opts = checkOptions<WaitOptions>(options, "receive");
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    return nowOrWait(
      this.#streak,
      this.#binding,
      signal,
      () => this.#receiveNow(false, undefined),
      async (cancel) => {
        const { data, priority } = await this.#queue.receive(timeout, cancel);
        return { data, priority };
      },
    );
  }

  /** The highest-priority message, blocking this thread while the queue is empty (up to `timeout` ms). */
  receiveSync(options?: Omit<WaitOptions, "signal">): MessageQueueMessage {
    this.ensureOpen();
    const opts = checkOptions<WaitOptions>(options, "receiveSync");
    const timeout = checkTimeout(opts.timeout);
    return this.#receiveNow(true, timeout) as MessageQueueMessage;
  }

  /** The highest-priority message if one is queued now, else undefined. */
  tryReceive(): MessageQueueMessage | undefined {
    this.ensureOpen();
    return this.#receiveNow(false, undefined);
  }

  #receiveNow(wait: boolean, timeout: number | undefined): MessageQueueMessage | undefined {
    const pool = this.#pool;
    const n = callNative(() => this.#calls.receiveInto(this.#fast, pool.chunk, pool.offset, wait, timeout));
    if (n < 0) return undefined;
    return { data: pool.take(0, n), priority: this.#binding.mqLastPriority() };
  }

  /** Yields messages as they arrive until the handle is closed (or the loop breaks). */
  [Symbol.asyncIterator](): AsyncIterator<MessageQueueMessage> {
    return receiveUntilClosed(this, () => this.receive());
  }

  protected describe(): string {
    return `MessageQueue ${JSON.stringify(this.#name)}`;
  }

  protected freeResources(): void {
    this.#queue.close();
  }
}
