import type { Socket } from "node:net";
import { formatAddress, parseAddress } from "./address.js";
import { unsupported, capabilities } from "./backend.js";
import {
  Connection,
  resolveAuth,
  resolveConnectionOptions,
  type AuthOptions,
  type ConnectionOptions,
  type ResolvedAuth,
  type ResolvedConnectionOptions,
} from "./connection.js";
import { IpcError } from "./errors.js";
import { connectSocket, listenSocket, removeSocketFile, type ServerHandle } from "./fallback/net-transport.js";
import { Handle } from "./handle.js";
import { checkOptions, checkSignal, checkTimeout } from "./validate.js";
import { WaitQueue, type WaitOptions } from "./waiters.js";

export interface ListenOptions extends ConnectionOptions, AuthOptions {}

export interface ConnectOptions extends ConnectionOptions, AuthOptions {
  /** Give up connecting (and authenticating) after this many ms: ERR_IPC_TIMEOUT. */
  timeout?: number;
  signal?: AbortSignal;
}

type Accepted = { connection: Connection } | { error: IpcError };

function requireConnection(api: string): void {
  if (!capabilities.connection) throw unsupported("connection", api);
}

/**
 * Accepts Connections at an address (multiprocessing.connection.Listener). Authentication runs
 * for each client on its own, so one slow or hostile client delays nobody else.
 */
export class Listener extends Handle {
  readonly #handle: ServerHandle;
  readonly #queue = new WaitQueue<Accepted>();
  readonly #live = new Set<Connection>();

  /** @internal Use listen(). */
  constructor(handle: ServerHandle) {
    super();
    this.#handle = handle;
  }

  /** @internal */
  static async create(address: string, options: ListenOptions | undefined): Promise<Listener> {
    requireConnection("listen");
    const parsed = parseAddress(address);
    const opts = checkOptions<ListenOptions>(options, "listen");
    const resolved = resolveConnectionOptions(opts);
    const auth = resolveAuth(opts, resolved.raw);
    let listener: Listener | undefined;
    const handle = await listenSocket(parsed, resolved.raw, (socket) => {
      if (listener === undefined) socket.destroy();
      else listener.#incoming(socket, resolved, auth);
    });
    listener = new Listener(handle);
    return listener;
  }

  #incoming(socket: Socket, options: ResolvedConnectionOptions, auth: ResolvedAuth): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, options, `Connection(${this.address} #${socket.remotePort ?? "peer"})`);
    if (auth.key === undefined) {
      this.#queue.push({ connection });
      return;
    }
    this.#live.add(connection);
    connection.authenticate(auth.key, "server", auth.handshakeTimeout).then(
      () => {
        this.#live.delete(connection);
        if (this.closed) connection.close();
        else this.#queue.push({ connection });
      },
      (error: unknown) => {
        this.#live.delete(connection);
        if (!this.closed) this.#queue.push({ error: error instanceof IpcError ? error : new IpcError("ERR_IPC_PERMISSION", String(error)) });
      },
    );
  }

  /** `tcp://127.0.0.1:41234` (the real port when listening on port 0), or the path. */
  get address(): string {
    return formatAddress(this.#handle.address);
  }

  /**
   * The next client. With an authKey, a client that fails authentication makes this reject with
   * ERR_IPC_PERMISSION (its connection is already closed); the listener keeps going.
   */
  async accept(options?: WaitOptions): Promise<Connection> {
    this.ensureOpen();
    const opts = checkOptions<WaitOptions>(options, "accept");
    const next = await this.#queue.shift({ timeout: checkTimeout(opts.timeout), signal: checkSignal(opts.signal) });
    if ("error" in next) throw next.error;
    return next.connection;
  }

  /** Authenticated connections until the listener closes; failed handshakes are skipped. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Connection, void, undefined> {
    for (;;) {
      let connection: Connection;
      try {
        connection = await this.accept();
      } catch (error) {
        if (this.closed) return;
        if (error instanceof IpcError && error.code === "ERR_IPC_PERMISSION") continue;
        throw error;
      }
      yield connection;
    }
  }

  protected describe(): string {
    return `Listener ${this.address}`;
  }

  protected freeResources(): void {
    this.#handle.server.close();
    removeSocketFile(this.#handle);
    const closed = new IpcError("ERR_IPC_CLOSED", `${this.describe()} is closed`);
    for (const item of this.#queue.clear(closed)) if ("connection" in item) item.connection.close();
    for (const connection of this.#live) connection.close();
    this.#live.clear();
  }
}

/** Listens at an address: a socket path, `@abstract`, `\\.\pipe\name` or `tcp://host:port`. */
export function listen(address: string, options?: ListenOptions): Promise<Listener> {
  return Listener.create(address, options);
}

/** Connects to a Listener (or any server, with framing "raw"). */
export async function connect(address: string, options?: ConnectOptions): Promise<Connection> {
  requireConnection("connect");
  const parsed = parseAddress(address);
  const opts = checkOptions<ConnectOptions>(options, "connect");
  const resolved = resolveConnectionOptions(opts);
  const auth = resolveAuth(opts, resolved.raw);
  const timeout = checkTimeout(opts.timeout);
  const signal = checkSignal(opts.signal);
  const started = Date.now();
  const socket = await connectSocket(parsed, { timeout, signal, allowHalfOpen: resolved.raw });
  const connection = new Connection(socket, resolved, `Connection(${formatAddress(parsed)})`);
  if (auth.key === undefined && !resolved.raw) connection.refuseChallenge();
  if (auth.key !== undefined) {
    const left = timeout === undefined ? auth.handshakeTimeout : Math.max(0, Math.min(auth.handshakeTimeout, timeout - (Date.now() - started)));
    const handshake = connection.authenticate(auth.key, "client", left);
    if (signal !== undefined) {
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
      try {
        await Promise.race([handshake, aborted]);
      } catch (error) {
        connection.close();
        handshake.catch(() => undefined);
        throw error;
      }
    } else {
      await handshake;
    }
  }
  return connection;
}
