import { lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { IpcError } from "../errors.js";
import type { SyncWaitOptions, WaitOptions } from "../shared/waiting.js";
import { checkOptions, checkSignal, checkTimeout } from "../validate.js";
import { Op, Status, fromJsonBytes, type QueueInfo, type Reply } from "./queue-protocol.js";
import { WorkerBridge } from "./sync-bridge.js";

/**
 * The js backend's Queue transport: the creating process hosts the queue in a worker that
 * listens on a Unix socket named after the queue; every handle (the host's own included)
 * reaches it through a worker of its own (sync-bridge.ts).
 */
export class SocketQueueTransport {
  readonly #bridge: WorkerBridge;
  readonly #label: string;
  readonly info: QueueInfo;
  #closed = false;

  private constructor(bridge: WorkerBridge, label: string) {
    this.#bridge = bridge;
    this.#label = label;
    try {
      this.info = fromJsonBytes<QueueInfo>(blocking(bridge.ready(), label, "open"));
    } catch (error) {
      bridge.close();
      throw error;
    }
  }

  /** Hosts a new queue in this process. `name` is already checked (checkObjectName). */
  static create(name: string, info: QueueInfo): SocketQueueTransport {
    const label = `Queue ${JSON.stringify(name)}`;
    const path = queueSocketPath(name);
    const transport = new SocketQueueTransport(new WorkerBridge({ role: "host", path, label, info }), label);
    transport.#removeOnExit(path);
    return transport;
  }

  static open(name: string): SocketQueueTransport {
    const label = `Queue ${JSON.stringify(name)}`;
    return new SocketQueueTransport(new WorkerBridge({ role: "client", path: queueSocketPath(name), label }), label);
  }

  /** Removes the name: later opens fail with ERR_IPC_NOT_FOUND; open handles keep working. */
  static unlink(name: string): void {
    const path = queueSocketPath(name);
    try {
      if (!lstatSync(path).isSocket()) throw new IpcError("ERR_IPC_EXISTS", `${path} is not a queue socket; not removing it`);
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new IpcError("ERR_IPC_NOT_FOUND", `Queue ${JSON.stringify(name)} does not exist`);
      throw error;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pending(): number {
    return this.#sync(Op.size, 0).arg;
  }

  async send(bytes: Uint8Array, options?: WaitOptions): Promise<void> {
    await this.#async(Op.put, options, "put", bytes);
  }

  sendSync(bytes: Uint8Array, options?: SyncWaitOptions): void {
    blocking(this.#sync(Op.put, syncWait(options, "putSync"), bytes), this.#label, "putSync");
  }

  trySend(bytes: Uint8Array): boolean {
    return settle(this.#sync(Op.put, 0, bytes), this.#label, "putNowait") !== BUSY;
  }

  async receive(options?: WaitOptions): Promise<Uint8Array> {
    return (await this.#async(Op.get, options, "get")) as Uint8Array;
  }

  receiveSync(options?: SyncWaitOptions): Uint8Array {
    return blocking(this.#sync(Op.get, syncWait(options, "getSync")), this.#label, "getSync");
  }

  tryReceive(): Uint8Array | undefined {
    const bytes = settle(this.#sync(Op.get, 0), this.#label, "getNowait");
    return bytes === BUSY ? undefined : (bytes as Uint8Array);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#bridge.close();
    this.#onClose?.();
  }

  #onClose: (() => void) | undefined;

  /** A host that exits without close() would leave its socket file behind (stale, but clutter). */
  #removeOnExit(path: string): void {
    let ino: number | undefined;
    try {
      ino = lstatSync(path).ino;
    } catch {
      return;
    }
    const remove = (): void => {
      try {
        if (lstatSync(path).ino === ino) unlinkSync(path);
      } catch {
        // already gone
      }
    };
    process.once("exit", remove);
    this.#onClose = () => process.off("exit", remove);
  }

  #ensureOpen(): void {
    if (this.#closed) throw new IpcError("ERR_IPC_CLOSED", `${this.#label} is closed`);
  }

  #sync(op: typeof Op.put | typeof Op.get | typeof Op.size, wait: number, bytes?: Uint8Array): Reply {
    this.#ensureOpen();
    this.#checkSize(bytes);
    return this.#bridge.callSync(op, wait, bytes);
  }

  async #async(op: typeof Op.put | typeof Op.get, options: WaitOptions | undefined, what: string, bytes?: Uint8Array): Promise<unknown> {
    this.#ensureOpen();
    const opts = checkOptions<WaitOptions>(options, what);
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    signal?.throwIfAborted();
    this.#checkSize(bytes);
    let sent: number | undefined;
    const onAbort = (): void => {
      if (sent !== undefined) this.#bridge.cancel(sent);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const reply = await this.#bridge.call(op, waitArg(timeout), bytes, (id) => (sent = id));
      if (reply.status === Status.cancelled) throw signal!.reason;
      return blocking(reply, this.#label, what);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  #checkSize(bytes: Uint8Array | undefined): void {
    if (bytes !== undefined && this.info.maxItem > 0 && bytes.length > this.info.maxItem) {
      throw new IpcError("ERR_IPC_TOO_LARGE", `item is ${bytes.length} bytes; ${this.#label} takes at most ${this.info.maxItem}`);
    }
  }
}

const BUSY = Symbol("busy");

/** A reply's result (bytes, or BUSY for a nowait form that found the queue full or empty), or its error thrown. */
function settle(reply: Reply, label: string, what: string): Uint8Array | undefined | typeof BUSY {
  switch (reply.status) {
    case Status.ok:
      return reply.bytes ?? (new Uint8Array() as Uint8Array | undefined);
    case Status.busy:
      return BUSY;
    case Status.timeout:
      throw new IpcError("ERR_IPC_TIMEOUT", `${label}: ${what} timed out after ${reply.arg} ms`);
    default: {
      const { code, message } = fromJsonBytes<{ code: string; message: string }>(reply.bytes);
      throw new IpcError(code as IpcError["code"], message);
    }
  }
}

/** A waiting form's result: a full or empty queue at a zero timeout is a timeout. */
function blocking(reply: Reply, label: string, what: string): Uint8Array {
  const result = settle(reply.status === Status.busy ? { ...reply, status: Status.timeout } : reply, label, what);
  return result as Uint8Array;
}

/** The host's wait argument: -1 waits forever (also for waits too long for a timer). */
function waitArg(timeout: number | undefined): number {
  return timeout === undefined || timeout > 0x7fffffff ? -1 : timeout;
}

function syncWait(options: SyncWaitOptions | undefined, what: string): number {
  return waitArg(checkTimeout(checkOptions<SyncWaitOptions>(options, what).timeout));
}

/** `<tmpdir>/ipckit-<uid>/queue-<name>.sock`, in a directory only this user can enter. */
export function queueSocketPath(name: string): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  const dir = join(process.platform === "win32" ? tmpdir() : "/tmp", `ipckit-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || (typeof process.getuid === "function" && stat.uid !== uid) || (stat.mode & 0o077) !== 0) {
    throw new IpcError("ERR_IPC_PERMISSION", `${dir} must be a directory owned by this user with mode 0700`);
  }
  return join(dir, `queue-${name.replace(/^\//, "")}.sock`);
}
