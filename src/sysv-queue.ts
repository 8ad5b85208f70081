import { callNative, nativeFor, type Binding } from "./backend.js";
import { FastPath, nowOrWait } from "./cancellable.js";
import { invalidArgument } from "./errors.js";
import { Handle } from "./handle.js";
import { ReceivePool } from "./receive-pool.js";
import { receiveUntilClosed } from "./receive-until-closed.js";
import type { MessageData, WaitOptions } from "./message-queue.js";
import {
  checkBoolean,
  checkBytes,
  checkInteger,
  checkMode,
  checkOptions,
  checkSignal,
  checkString,
  checkTimeout,
  describeValue,
} from "./validate.js";

type NativeQueue = InstanceType<Binding["NativeSysVQueue"]>;
type FastHandle = ReturnType<NativeQueue["fastHandle"]>;
type HotCalls = ReturnType<Binding["sysvFastPath"]>;

/** A numeric key (0 to 0xFFFFFFFF; negative int32 values mean the same bits), or ftok(path, projectId). */
export type SysVKey = number | { path: string; projectId: number };

export interface SysVMessageQueueOpenOptions {
  /** Create the queue if no queue has this key. Default false. */
  create?: boolean;
  /** With `create`, refuse an existing queue with ERR_IPC_EXISTS. Default false. */
  exclusive?: boolean;
  /** Permission bits of a created queue. Default 0o600. */
  mode?: number;
  /** Capacity in bytes of a created queue (msg_qbytes; at most kernel.msgmnb, 16384 by default). */
  maxBytes?: number;
}

export interface SysVSendOptions extends WaitOptions {
  /** Message type, an integer > 0. Default 1. */
  type?: number;
}

export interface SysVReceiveOptions extends WaitOptions {
  /** 0: the first message; > 0: the first of that type; < 0: the lowest type <= |type|. Default 0. */
  type?: number;
}

export interface SysVMessage {
  data: Uint8Array;
  type: number;
}

export interface SysVMessageQueueStats {
  /** Messages queued. */
  messages: number;
  /** Bytes queued. */
  bytes: number;
  /** Capacity in bytes (msg_qbytes). */
  maxBytes: number;
}

const API = "SysVMessageQueue";

function native(): Binding {
  return nativeFor("sysvMessageQueue", API);
}

function checkKey(binding: Binding, key: unknown): number {
  if (typeof key === "number") return checkInteger(key, "key", -(2 ** 31), 2 ** 32 - 1) | 0;
  if (key !== null && typeof key === "object" && !Array.isArray(key)) {
    const { path, projectId } = key as { path?: unknown; projectId?: unknown };
    const file = checkString(path, "key.path");
    if (file === "") throw invalidArgument("key.path must not be empty");
    const project = checkInteger(projectId, "key.projectId", 1, 255);
    return callNative(() => binding.sysvKeyFromPath(file, project));
  }
  throw invalidArgument(`key must be a number or { path, projectId }, got ${describeValue(key)}`);
}

function sendType(value: unknown): number {
  return value === undefined ? 1 : checkInteger(value, "type", 1);
}

function receiveType(value: unknown): number {
  return value === undefined ? 0 : checkInteger(value, "type", -Number.MAX_SAFE_INTEGER);
}

/**
 * A System V message queue (msgget): typed messages in a kernel queue identified by a key,
 * the queue `ipcs -q` lists and C or Python programs reach with msgsnd/msgrcv.
 */
export class SysVMessageQueue extends Handle implements AsyncIterable<SysVMessage> {
  readonly #binding: Binding;
  readonly #queue: NativeQueue;
  /** For the Sync and try forms: free native functions, much cheaper to call than methods. */
  readonly #fast: FastHandle;
  /** Hand-written Node-API callbacks for the Sync and try forms (no per-call napi-rs scope). */
  readonly #calls: HotCalls;
  readonly #pool: ReceivePool;
  readonly #streak = new FastPath();
  readonly #key: number;
  readonly #id: number;

  private constructor(binding: Binding, queue: NativeQueue) {
    super();
    this.#binding = binding;
    this.#queue = queue;
    this.#fast = queue.fastHandle();
    this.#calls = binding.sysvFastPath();
    this.#pool = new ReceivePool(binding.sysvReceiveBufferSize(this.#fast));
    this.#key = queue.key >>> 0;
    this.#id = queue.id;
  }

  static open(key: SysVKey, options?: SysVMessageQueueOpenOptions): SysVMessageQueue {
    const binding = native();
    const opts = checkOptions<SysVMessageQueueOpenOptions>(options, "SysVMessageQueue.open");
    const rawKey = checkKey(binding, key);
    const create = checkBoolean(opts.create, "create", false);
    const exclusive = checkBoolean(opts.exclusive, "exclusive", false);
    const mode = checkMode(opts.mode);
    const maxBytes = opts.maxBytes === undefined ? undefined : checkInteger(opts.maxBytes, "maxBytes", 1, 2 ** 31 - 1);
    const queue = callNative(() => binding.NativeSysVQueue.open(rawKey, create, exclusive, mode, maxBytes));
    return new SysVMessageQueue(binding, queue);
  }

  /** The key as an unsigned 32-bit number (what `ipcs -q` prints in hex). */
  get key(): number {
    return this.#key;
  }

  /** The kernel's queue identifier (msqid). */
  get id(): number {
    return this.#id;
  }

  get stats(): SysVMessageQueueStats {
    this.ensureOpen();
    return callNative(() => this.#queue.stats());
  }

  /** Deletes the queue for everyone (IPC_RMID); pending receivers anywhere fail. */
  remove(): void {
    this.ensureOpen();
    callNative(() => this.#queue.remove());
  }

  /** Queues a message, waiting (without blocking the event loop) while the queue is full. */
  async send(data: MessageData, options?: SysVSendOptions): Promise<void> {
    this.ensureOpen();
    const bytes = checkBytes(data);
    const opts = checkOptions<SysVSendOptions>(options, "send");
    const type = sendType(opts.type);
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    await nowOrWait(
      this.#streak,
      this.#binding,
      signal,
      () => callNative(() => this.#calls.trySend(this.#fast, bytes, type)) || undefined,
      (cancel) => this.#queue.send(bytes, type, timeout, cancel),
    );
  }

  /** Queues a message, blocking this thread while the queue is full (up to `timeout` ms). */
  sendSync(data: MessageData, options?: Omit<SysVSendOptions, "signal">): void {
    this.ensureOpen();
    const bytes = checkBytes(data);
    const opts = checkOptions<SysVSendOptions>(options, "sendSync");
    const type = sendType(opts.type);
    const timeout = checkTimeout(opts.timeout);
    callNative(() => this.#calls.sendSync(this.#fast, bytes, type, timeout));
  }

  /** Queues a message if there is room now; false if the queue is full. */
  trySend(data: MessageData, options?: { type?: number }): boolean {
    this.ensureOpen();
    const bytes = checkBytes(data);
    const opts = checkOptions<SysVSendOptions>(options, "trySend");
    const type = sendType(opts.type);
    return callNative(() => this.#calls.trySend(this.#fast, bytes, type));
  }

  /** The next message of the selected type, waiting (without blocking the event loop) until there is one. */
  async receive(options?: SysVReceiveOptions): Promise<SysVMessage> {
    this.ensureOpen();
    const opts = checkOptions<SysVReceiveOptions>(options, "receive");
    const type = receiveType(opts.type);
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    return nowOrWait(
      this.#streak,
      this.#binding,
      signal,
      () => this.#receiveNow(type, false, undefined),
      async (cancel) => {
        const message = await this.#queue.receive(type, timeout, cancel);
        return { data: message.data, type: message.type };
      },
    );
  }

  /** The next message of the selected type, blocking this thread until there is one (up to `timeout` ms). */
  receiveSync(options?: Omit<SysVReceiveOptions, "signal">): SysVMessage {
    this.ensureOpen();
    const opts = checkOptions<SysVReceiveOptions>(options, "receiveSync");
    const type = receiveType(opts.type);
    const timeout = checkTimeout(opts.timeout);
    return this.#receiveNow(type, true, timeout) as SysVMessage;
  }

  /** The next message of the selected type if there is one now, else undefined. */
  tryReceive(options?: { type?: number }): SysVMessage | undefined {
    this.ensureOpen();
    const opts = checkOptions<SysVReceiveOptions>(options, "tryReceive");
    const type = receiveType(opts.type);
    return this.#receiveNow(type, false, undefined);
  }

  #receiveNow(type: number, wait: boolean, timeout: number | undefined): SysVMessage | undefined {
    const pool = this.#pool;
    const n = callNative(() => this.#calls.receiveInto(this.#fast, pool.chunk, pool.offset, type, wait, timeout));
    if (n < 0) return undefined;
    return { data: pool.take(this.#binding.SYSV_HEADER, n), type: this.#binding.sysvLastType() };
  }

  /** Yields messages (any type) as they arrive until the handle is closed (or the loop breaks). */
  [Symbol.asyncIterator](): AsyncIterator<SysVMessage> {
    return receiveUntilClosed(this, () => this.receive());
  }

  protected describe(): string {
    return `SysVMessageQueue key 0x${this.#key.toString(16)}`;
  }

  protected freeResources(): void {
    this.#queue.close();
  }
}
