import { Op, Status, errorReply, jsonBytes, type QueueInfo, type Reply, type Request } from "./queue-protocol.js";

/** Whoever sent a request: a socket client, or the hosting process's own main thread. */
export interface Requester {
  reply(reply: Reply): void;
}

interface Waiter {
  who: Requester;
  id: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  bytes?: Uint8Array;
}

/**
 * The queue itself, held by the hosting worker: items, waiting getters and (while full) waiting
 * putters. Every decision is made here, so an item is handed to exactly one getter: a getter
 * that timed out or was cancelled is removed before anything could be given to it.
 */
export class QueueState {
  readonly #items: Uint8Array[] = [];
  readonly #getters: Waiter[] = [];
  readonly #putters: Waiter[] = [];

  constructor(readonly info: QueueInfo) {}

  handle(who: Requester, request: Request): void {
    switch (request.op) {
      case Op.put:
        return this.#put(who, request);
      case Op.get:
        return this.#get(who, request);
      case Op.size:
        return who.reply({ id: request.id, status: Status.ok, arg: this.#items.length });
      case Op.cancel:
        return this.#cancel(who, request.arg);
      case Op.info:
        return who.reply({ id: request.id, status: Status.ok, arg: 0, bytes: jsonBytes(this.info) });
      default:
        return who.reply(errorReply(request.id, "ERR_IPC_INVALID_ARGUMENT", `unknown queue operation ${request.op}`));
    }
  }

  /** A requester went away: its waits end, and nothing more is handed to it. */
  drop(who: Requester): void {
    for (const list of [this.#getters, this.#putters]) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i]!.who === who) clearTimeout(list.splice(i, 1)[0]!.timer);
      }
    }
  }

  #put(who: Requester, request: Request): void {
    const bytes = request.bytes ?? new Uint8Array();
    const { maxItem, maxsize } = this.info;
    if (maxItem > 0 && bytes.length > maxItem) {
      return who.reply(errorReply(request.id, "ERR_IPC_TOO_LARGE", `item is ${bytes.length} bytes; this queue takes at most ${maxItem}`));
    }
    const getter = this.#getters.shift();
    if (getter !== undefined) {
      clearTimeout(getter.timer);
      getter.who.reply({ id: getter.id, status: Status.ok, arg: 0, bytes });
    } else if (maxsize === 0 || this.#items.length < maxsize) {
      this.#items.push(bytes);
    } else {
      return this.#wait(this.#putters, who, request, bytes);
    }
    who.reply({ id: request.id, status: Status.ok, arg: 0 });
  }

  #get(who: Requester, request: Request): void {
    const bytes = this.#items.shift();
    if (bytes === undefined) return this.#wait(this.#getters, who, request, undefined);
    who.reply({ id: request.id, status: Status.ok, arg: 0, bytes });
    const putter = this.#putters.shift();
    if (putter !== undefined) {
      clearTimeout(putter.timer);
      this.#items.push(putter.bytes!);
      putter.who.reply({ id: putter.id, status: Status.ok, arg: 0 });
    }
  }

  #wait(list: Waiter[], who: Requester, request: Request, bytes: Uint8Array | undefined): void {
    if (request.arg === 0) return who.reply({ id: request.id, status: Status.busy, arg: 0 });
    const waiter: Waiter = { who, id: request.id, timer: undefined, ...(bytes === undefined ? {} : { bytes }) };
    if (request.arg > 0) {
      waiter.timer = setTimeout(() => {
        const i = list.indexOf(waiter);
        if (i >= 0) list.splice(i, 1);
        who.reply({ id: request.id, status: Status.timeout, arg: request.arg });
      }, request.arg);
    }
    list.push(waiter);
  }

  /** Ends a wait that has not been served yet; one already served keeps its result. */
  #cancel(who: Requester, id: number): void {
    for (const list of [this.#getters, this.#putters]) {
      const i = list.findIndex((w) => w.who === who && w.id === id);
      if (i < 0) continue;
      clearTimeout(list.splice(i, 1)[0]!.timer);
      return who.reply({ id, status: Status.cancelled, arg: 0 });
    }
  }
}
