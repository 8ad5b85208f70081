import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import process from "node:process";
import { pause } from "../cancellable.js";
import { IpcError } from "../errors.js";

/**
 * FIFOs with node: APIs only: the `mkfifo` utility to create, fs streams to read and write
 * (they work in Node, Deno and Bun). A blocking open waits on a runtime pool thread until the
 * peer appears; an abort releases it (see openBlocking).
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

const isBun = (process.versions as Record<string, string | undefined>).bun !== undefined;

/** PIPE_BUF on every Unix we support is at least this: writes this small are all-or-nothing. */
const ATOMIC_WRITE = 4096;
const MAX_RETRY_MS = 20;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Deno runs fs.write on a FIFO on the main thread, and Bun's fs pool lets one parked FIFO read
 * hold up other fs calls, so there a full or empty pipe must not be waited for in a read or
 * write call. Those runtimes use non-blocking descriptors and retry on a short timer (1 to
 * 20 ms backoff): polling, but nothing blocks and no thread is held. Native does better.
 */
async function openWriterPolling(path: string, signal: AbortSignal | undefined): Promise<number> {
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (signal?.aborted === true) throw signal.reason;
    try {
      return fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENXIO") throw fsError(error, `open ${path}`);
    }
    await pause(delay, signal);
  }
}

function pollingSource(path: string, blockingFd: number): FifoSource {
  // The blocking open told us a writer exists; from here a 0-byte read is a real EOF.
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } finally {
    fs.closeSync(blockingFd);
  }
  let closed = false;
  const buffer = Buffer.allocUnsafe(64 * 1024);
  return {
    async read() {
      for (let delay = 1; ; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
        if (closed) throw new IpcError("ERR_IPC_CLOSED", `FifoReader ${path} is closed`);
        try {
          const n = fs.readSync(fd, buffer, 0, buffer.length, null);
          return n === 0 ? null : new Uint8Array(buffer.subarray(0, n));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw fsError(error, `read ${path}`);
        }
        await sleep(delay);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      fs.closeSync(fd);
    },
  };
}

function nonBlockingSink(path: string, fd: number): FifoSink {
  let closed = false;
  let queue: Promise<void> = Promise.resolve();
  const writeSome = (data: Uint8Array, offset: number): number | undefined => {
    const end = Math.min(offset + ATOMIC_WRITE, data.length);
    try {
      return fs.writeSync(fd, data, offset, end - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") return undefined;
      throw fsError(error, `write ${path}`);
    }
  };
  const writeAll = async (data: Uint8Array): Promise<void> => {
    let offset = 0;
    let delay = 1;
    while (offset < data.length) {
      if (closed) throw new IpcError("ERR_IPC_CLOSED", `FifoWriter ${path} is closed`);
      const n = writeSome(data, offset);
      if (n !== undefined) {
        offset += n;
        delay = 1;
      } else {
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
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
      // writeSync may block this thread; it sleeps while the pipe is full.
      let offset = 0;
      while (offset < data.length) {
        const n = writeSome(data, offset);
        if (n !== undefined) offset += n;
        else sleepSync(1);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      void queue.finally(() => fs.closeSync(fd));
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

/**
 * Opens `path` with `flags`, which blocks (off the loop) until the other end is opened. On abort
 * we hold the FIFO open read-write (never blocks on Linux and macOS) until the pending open has
 * come back, whether it was already parked in open() or still queued for a pool thread, so no
 * thread is left waiting for a peer that will never come; only then does the promise reject.
 */
function openBlocking(path: string, flags: number, signal: AbortSignal | undefined): Promise<number> {
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let aborted = false;
    let helper: number | undefined;
    const onAbort = (): void => {
      aborted = true;
      try {
        helper = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
      } catch {
        reject(signal!.reason);
      }
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    fs.open(path, flags, (error, fd) => {
      signal?.removeEventListener("abort", onAbort);
      if (aborted) {
        if (!error) fs.closeSync(fd);
        if (helper !== undefined) fs.closeSync(helper);
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
  const fd = await openBlocking(path, fs.constants.O_RDONLY, signal);
  if (isBun) return pollingSource(path, fd);
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
  if (isDeno || isBun) return nonBlockingSink(path, await openWriterPolling(path, signal));
  const fd = await openBlocking(path, fs.constants.O_WRONLY, signal);
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
