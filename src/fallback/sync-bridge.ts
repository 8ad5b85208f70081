import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { MainRequest, QueueWorkerData } from "./queue-worker.js";
import { Op, errorReply, type OpCode, type Reply } from "./queue-protocol.js";
import nativeRequire from "../native/require.cjs";

// Resolved through the require anchored in dist/native/ (no import.meta: the CJS build shares this file);
// both builds start the same ESM worker.
const QUEUE_WORKER = nativeRequire.resolve("../fallback/queue-worker.js");

/**
 * The main thread's side of a queue worker. `call` posts a request and resolves on the reply;
 * `callSync` posts it and blocks in Atomics.wait until the worker has put the reply on a
 * private MessagePort and raised a flag in a SharedArrayBuffer, then takes it with
 * receiveMessageOnPort (Node, Deno and Bun all allow Atomics.wait on the main thread).
 * The worker is unref'd except while an async call waits, so it never keeps the process alive.
 */
export class WorkerBridge {
  readonly #worker: Worker;
  readonly #flag: Int32Array;
  readonly #port: MessagePort;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #nextId = 1;
  #gone = false;

  constructor(data: Omit<QueueWorkerData, "sab" | "port">) {
    const sab = new SharedArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    this.#flag = new Int32Array(sab);
    this.#port = port1;
    // Only receiveMessageOnPort reads it: it must not hold the event loop open.
    this.#port.unref();
    this.#worker = new Worker(QUEUE_WORKER, {
      // Not the parent's flags: under `node -e` they carry the eval'd code, which would run instead.
      execArgv: [],
      workerData: { ...data, sab, port: port2 } satisfies QueueWorkerData,
      transferList: [port2],
    });
    this.#worker.on("message", (reply: Reply) => this.#settle(reply));
    this.#worker.on("error", () => this.#fail());
    this.#worker.on("exit", () => this.#fail());
    // After the listeners: adding a "message" listener refs the worker again in Node.
    this.#worker.unref();
  }

  /** The worker's first answer: the queue is served (host) or reached (client), or why not. */
  ready(): Reply {
    return this.#await(0);
  }

  callSync(op: OpCode, arg: number, bytes?: Uint8Array): Reply {
    const id = this.#id();
    if (this.#gone) return gone(id);
    Atomics.store(this.#flag, 0, 0);
    this.#worker.postMessage({ id, op, arg, bytes, sync: true } satisfies MainRequest);
    return this.#await(id);
  }

  /** Resolves with the reply; `onSent` gets the id (for cancel). */
  call(op: OpCode, arg: number, bytes?: Uint8Array, onSent?: (id: number) => void): Promise<Reply> {
    const id = this.#id();
    if (this.#gone) return Promise.resolve(gone(id));
    return new Promise((resolve) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, resolve);
      this.#worker.postMessage({ id, op, arg, bytes, sync: false } satisfies MainRequest);
      onSent?.(id);
    });
  }

  /** Asks the worker to stop waiting for `id`; the original call then resolves "cancelled" or with its result. */
  cancel(id: number): void {
    if (!this.#gone) this.#worker.postMessage({ id: this.#id(), op: Op.cancel, arg: id, sync: false } satisfies MainRequest);
  }

  close(): void {
    if (!this.#gone) this.callSync(Op.close, 0);
    this.#gone = true;
    void this.#worker.terminate();
    this.#port.close();
    this.#fail();
  }

  #id(): number {
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    return this.#nextId;
  }

  #await(id: number): Reply {
    for (;;) {
      // Bounded waits only so that a worker that died without answering is noticed.
      Atomics.wait(this.#flag, 0, 0, 1000);
      const message = receiveMessageOnPort(this.#port);
      if (message !== undefined) {
        Atomics.store(this.#flag, 0, 0);
        const reply = message.message as Reply;
        if (reply.id === id) return reply;
        continue;
      }
      if (Atomics.load(this.#flag, 0) === 0 && this.#workerDead()) return gone(id);
    }
  }

  #workerDead(): boolean {
    return this.#gone || this.#worker.threadId < 0;
  }

  #settle(reply: Reply): void {
    const resolve = this.#pending.get(reply.id);
    if (resolve === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    resolve(reply);
  }

  #fail(): void {
    this.#gone = true;
    for (const [id, resolve] of this.#pending) resolve(gone(id));
    this.#pending.clear();
  }
}

function gone(id: number): Reply {
  return errorReply(id, "ERR_IPC_CLOSED", "the queue's worker has stopped");
}
