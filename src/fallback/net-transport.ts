import { chmodSync, lstatSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { formatAddress, netPath, type Address } from "../address.js";
import { IpcError } from "../errors.js";

/**
 * Sockets on node:net only (Unix sockets, Windows named pipes, TCP): the APIs Node, Deno and Bun
 * all provide. Both backends carry Connection bytes through these sockets; libuv (or the
 * runtime's own loop) already does the reading and writing natively.
 */

const isBun = (process.versions as Record<string, string | undefined>).bun !== undefined;

const CLOSED_CODES = new Set(["ECONNRESET", "EPIPE", "ERR_STREAM_DESTROYED", "ERR_SOCKET_CLOSED", "ERR_STREAM_WRITE_AFTER_END"]);

/** A node:net error as an IpcError with a stable code. */
export function socketError(error: unknown, what: string): IpcError {
  if (error instanceof IpcError) return error;
  const e = error as NodeJS.ErrnoException;
  const code = e?.code ?? "";
  const message = `${what}: ${e?.message ?? String(error)}`;
  const options = { cause: error, ...(e?.syscall === undefined ? {} : { syscall: e.syscall }), ...(typeof e?.errno === "number" ? { errno: Math.abs(e.errno) } : {}) };
  if (CLOSED_CODES.has(code)) return new IpcError("ERR_IPC_CLOSED", message, options);
  if (code === "ENOENT" || code === "ECONNREFUSED") return new IpcError("ERR_IPC_NOT_FOUND", message, options);
  if (code === "EACCES" || code === "EPERM") return new IpcError("ERR_IPC_PERMISSION", message, options);
  if (code === "EADDRINUSE") return new IpcError("ERR_IPC_EXISTS", message, options);
  if (code === "ETIMEDOUT") return new IpcError("ERR_IPC_TIMEOUT", message, options);
  if (code === "EMFILE" || code === "ENFILE") return new IpcError("ERR_IPC_LIMIT", message, options);
  return new IpcError("ERR_IPC_OS", message, options);
}

/** The socket's descriptor where the runtime exposes it (Node, Deno and Bun do on Unix). */
export function socketFd(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

/** A socket over an inherited descriptor. Bun accepts `{ fd }` only through connect(). */
export function socketFromFd(fd: number): net.Socket {
  if (isBun) return net.connect({ fd } as unknown as net.NetConnectOpts);
  return new net.Socket({ fd, readable: true, writable: true });
}

export interface ConnectSocketOptions {
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  allowHalfOpen?: boolean;
}

function connectOptions(address: Address, allowHalfOpen: boolean): net.NetConnectOpts {
  if (address.kind === "tcp") return { host: address.host, port: address.port, allowHalfOpen };
  return { path: netPath(address), allowHalfOpen };
}

/** A connected socket; ERR_IPC_NOT_FOUND when nobody listens there. */
export function connectSocket(address: Address, options: ConnectSocketOptions = {}): Promise<net.Socket> {
  const { timeout, signal } = options;
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const socket = net.connect(connectOptions(address, options.allowHalfOpen ?? false));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      socket.off("connect", onConnect);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (error: Error): void => {
      cleanup();
      socket.destroy();
      reject(socketError(error, `connect ${formatAddress(address)}`));
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(signal!.reason);
    };
    socket.once("connect", onConnect);
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        socket.destroy();
        reject(new IpcError("ERR_IPC_TIMEOUT", `connect ${formatAddress(address)}: timed out after ${timeout} ms`));
      }, timeout);
    }
  });
}

/** Whether a live server answers at a socket path (a stale file left by a dead one refuses). */
function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ path });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Makes room for a Unix socket at `path`: a live server's socket is never taken (ERR_IPC_EXISTS),
 * a stale one (nobody accepts) is removed, anything that is not a socket is left alone.
 */
async function claimSocketPath(path: string): Promise<void> {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new IpcError("ERR_IPC_EXISTS", `${path} exists and is not a socket; not replacing it`);
  if (await probe(path)) throw new IpcError("ERR_IPC_EXISTS", `a server is already listening at ${path}`);
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw socketError(error, `remove stale socket ${path}`);
  }
}

export interface ServerHandle {
  server: net.Server;
  /** The address with the port filled in (TCP port 0). */
  address: Address;
  /** The socket file this server created, removed on close if it is still ours. */
  socketPath: string | undefined;
  socketIno: number | undefined;
}

/** Binds with the umask set so the socket file is 0600 from its first instant (where allowed). */
function listenPrivately(server: net.Server, options: net.ListenOptions): void {
  let previous: number | undefined;
  try {
    previous = process.umask(0o177);
  } catch {
    previous = undefined; // workers and some runtimes cannot change it: chmod below still applies
  }
  try {
    server.listen(options);
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
}

export async function listenSocket(address: Address, allowHalfOpen: boolean, onConnection: (socket: net.Socket) => void): Promise<ServerHandle> {
  if (address.kind === "unix") await claimSocketPath(address.path);
  const server = net.createServer({ allowHalfOpen }, onConnection);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off("listening", onListening);
      reject(socketError(error, `listen ${formatAddress(address)}`));
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    if (address.kind === "tcp") server.listen({ host: address.host, port: address.port });
    else if (address.kind === "unix") listenPrivately(server, { path: address.path });
    else server.listen({ path: netPath(address) });
  });
  let bound: Address = address;
  let socketIno: number | undefined;
  if (address.kind === "tcp") {
    const info = server.address() as net.AddressInfo;
    bound = { ...address, port: info.port };
  } else if (address.kind === "unix") {
    try {
      chmodSync(address.path, 0o600);
      socketIno = lstatSync(address.path).ino;
    } catch (error) {
      server.close();
      throw socketError(error, `chmod ${address.path}`);
    }
  }
  return { server, address: bound, socketPath: address.kind === "unix" ? address.path : undefined, socketIno };
}

/** Removes the socket file on close, but only if it is still the one we bound. */
export function removeSocketFile(handle: ServerHandle): void {
  if (handle.socketPath === undefined) return;
  try {
    if (lstatSync(handle.socketPath).ino === handle.socketIno) unlinkSync(handle.socketPath);
  } catch {
    // already gone
  }
}

/**
 * A connected pair from node:net alone: a one-shot listener on a socket in a fresh 0700
 * directory, removed as soon as the second end is accepted. Both ends arrive asynchronously;
 * a Connection queues writes until its socket exists.
 */
export function socketPair(): [Promise<net.Socket>, Promise<net.Socket>] {
  const dir = mkdtempSync(join(process.platform === "win32" ? tmpdir() : "/tmp", "ipckit-pipe-"));
  const path = process.platform === "win32" ? `\\\\.\\pipe\\${dir.replace(/[^A-Za-z0-9-]/g, "")}` : join(dir, "s");
  let done = false;
  const cleanup = (): void => {
    if (done) return;
    done = true;
    rmSync(dir, { recursive: true, force: true });
  };
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve, reject) => {
    server.once("connection", (socket) => {
      server.close();
      cleanup();
      resolve(socket);
    });
    server.once("error", (error) => {
      cleanup();
      reject(socketError(error, "Pipe"));
    });
  });
  const connected = new Promise<net.Socket>((resolve, reject) => {
    server.once("listening", () => {
      const socket = net.connect({ path });
      socket.once("connect", () => resolve(socket));
      socket.once("error", (error) => {
        server.close();
        cleanup();
        reject(socketError(error, "Pipe"));
      });
    });
    server.once("error", (error) => reject(socketError(error, "Pipe")));
  });
  server.listen({ path });
  return [connected, accepted];
}
