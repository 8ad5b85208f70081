import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import process from "node:process";
import { IpcError } from "../errors.js";

/**
 * FIFOs with node: APIs only: the `mkfifo` utility to create, fs streams to read and write
 * (they work in Node, Deno and Bun). A blocking open waits on a runtime pool thread until the
 * peer appears; an abort releases it by briefly opening the other end without blocking.
 */

export interface FifoSource {
  read(): Promise<Uint8Array | null>;
  close(): void;
}

export interface FifoSink {
  write(data: Uint8Array): Promise<void>;
  writeSync(data: Uint8Array, timeout?: number): void;
  close(): void;
}

function fsError(error: unknown, what: string): IpcError {
  const e = error as NodeJS.ErrnoException;
  const code = e?.code ?? "";
  const options = { cause: error, ...(e?.syscall === undefined ? {} : { syscall: e.syscall }) };
  const message = `${what}: ${e?.message ?? String(error)}`;
  if (code === "ENOENT") return new IpcError("ERR_IPC_NOT_FOUND", message, options);
  if (code === "EEXIST") return new IpcError("ERR_IPC_EXISTS", message, options);
  if (code === "EACCES" || code === "EPERM") return new IpcError("ERR_IPC_PERMISSION", message, options);
  if (code === "EPIPE" || code === "EBADF" || code === "ERR_STREAM_DESTROYED") return new IpcError("ERR_IPC_CLOSED", message, options);
  return new IpcError("ERR_IPC_OS", message, options);
}

const isDeno = (process.versions as Record<string, string | undefined>).deno !== undefined;

/** PIPE_BUF on every Unix we support is at least this: writes this small are all-or-nothing. */
const ATOMIC_WRITE = 4096;

/**
 * Deno's fs.write on a FIFO runs on the main thread, so a full pipe would freeze the loop. There
 * the writer's async writes use a non-blocking descriptor and PIPE_BUF-sized writes (all or EAGAIN, never a
 * partial count lost), retrying a full pipe on a short timer.
 */
function nonBlockingSink(path: string, blockingFd: number): FifoSink {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    fs.closeSync(blockingFd);
    throw fsError(error, `open ${path}`);
  }
  let closed = false;
  let queue: Promise<void> = Promise.resolve();
  const writeAll = async (data: Uint8Array): Promise<void> => {
    let offset = 0;
    let delay = 1;
    while (offset < data.length) {
      if (closed) throw new IpcError("ERR_IPC_CLOSED", `FifoWriter ${path} is closed`);
      const end = Math.min(offset + ATOMIC_WRITE, data.length);
      try {
        offset += fs.writeSync(fd, data, offset, end - offset);
        delay = 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw fsError(error, `write ${path}`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 20);
      }
    }
  };
  return {
    write(data) {
      const next = queue.then(() => writeAll(data));
      queue = next.catch(() => undefined);
      return next;
    },
    writeSync(data) {
      // The blocking descriptor: writeSync is meant to block this thread while the pipe is full.
      try {
        let offset = 0;
        while (offset < data.length) offset += fs.writeSync(blockingFd, data, offset);
      } catch (error) {
        throw fsError(error, `write ${path}`);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      void queue.finally(() => {
        fs.closeSync(fd);
        fs.closeSync(blockingFd);
      });
    },
  };
}

export function createFifo(path: string, mode: number): void {
  if (fs.existsSync(path) || isSymlink(path)) throw new IpcError("ERR_IPC_EXISTS", `mkfifo ${path}: it already exists`);
  try {
    execFileSync("mkfifo", ["-m", mode.toString(8), "--", path], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") throw new IpcError("ERR_IPC_UNSUPPORTED", "Fifo.create needs the mkfifo utility on PATH (or the native backend)");
    const stderr = e.stderr?.toString().trim() ?? "";
    if (/exists/i.test(stderr)) throw new IpcError("ERR_IPC_EXISTS", `mkfifo ${path}: ${stderr}`);
    if (/no such file/i.test(stderr)) throw new IpcError("ERR_IPC_NOT_FOUND", `mkfifo ${path}: ${stderr}`);
    if (/permission/i.test(stderr)) throw new IpcError("ERR_IPC_PERMISSION", `mkfifo ${path}: ${stderr}`);
    throw new IpcError("ERR_IPC_OS", `mkfifo ${path}: ${stderr || String(error)}`, { cause: error });
  }
  fs.chmodSync(path, mode);
}

function isSymlink(path: string): boolean {
  try {
    return fs.lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export function checkIsFifo(path: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(path);
  } catch (error) {
    throw fsError(error, `open ${path}`);
  }
  if (!stat.isFIFO()) throw new IpcError("ERR_IPC_INVALID_ARGUMENT", `${path} is not a FIFO`);
}

/** Opens `path` with `flags`, which blocks (off the loop) until the other end is opened. */
function openBlocking(path: string, flags: number, unblockFlags: number, signal: AbortSignal | undefined): Promise<number> {
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      // Be the peer for an instant, so the pool thread parked in open() comes back; reject once
      // it has and its descriptor is closed, so no half-open end lingers to confuse the next open.
      try {
        fs.closeSync(fs.openSync(path, unblockFlags | fs.constants.O_NONBLOCK));
      } catch {
        reject(signal!.reason);
      }
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    fs.open(path, flags, (error, fd) => {
      signal?.removeEventListener("abort", onAbort);
      if (aborted) {
        if (!error) fs.closeSync(fd);
        reject(signal!.reason);
        return;
      }
      if (error) reject(fsError(error, `open ${path}`));
      else resolve(fd);
    });
  });
}

export async function openReaderJs(path: string, signal: AbortSignal | undefined): Promise<FifoSource> {
  checkIsFifo(path);
  const fd = await openBlocking(path, fs.constants.O_RDONLY, fs.constants.O_WRONLY, signal);
  const stream = fs.createReadStream(path, { fd, highWaterMark: 64 * 1024 });
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return {
    async read() {
      try {
        const next = await chunks.next();
        return next.done === true ? null : new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      } catch (error) {
        throw fsError(error, `read ${path}`);
      }
    },
    close() {
      stream.destroy();
    },
  };
}

export async function openWriterJs(path: string, signal: AbortSignal | undefined): Promise<FifoSink> {
  checkIsFifo(path);
  const fd = await openBlocking(path, fs.constants.O_WRONLY, fs.constants.O_RDONLY, signal);
  if (isDeno) return nonBlockingSink(path, fd);
  const stream = fs.createWriteStream(path, { fd });
  let failure: IpcError | undefined;
  stream.on("error", (error) => {
    failure = fsError(error, `write ${path}`);
  });
  return {
    write(data) {
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        stream.write(data, (error) => (error ? reject(fsError(error, `write ${path}`)) : resolve()));
      });
    },
    writeSync(data) {
      if (failure !== undefined) throw failure;
      if (stream.writableLength > 0) throw new IpcError("ERR_IPC_BUSY", "writeSync while asynchronous writes are still queued would reorder data; await them first");
      try {
        let offset = 0;
        while (offset < data.length) offset += fs.writeSync(fd, data, offset);
      } catch (error) {
        throw fsError(error, `write ${path}`);
      }
    },
    close() {
      stream.end();
    },
  };
}
