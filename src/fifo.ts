import { unlinkSync } from "node:fs";
import { backend, callNative, callNativeAsync, nativeFor, unsupported, capabilities } from "./backend.js";
import { pause } from "./cancellable.js";
import { toBytes } from "./codec.js";
import { IpcError, invalidArgument } from "./errors.js";
import { checkIsFifo, createFifo, openReaderJs, openWriterJs, type FifoSink, type FifoSource } from "./fallback/fifo.js";
import { Handle } from "./handle.js";
import { checkMode, checkOptions, checkSignal, checkString, checkTimeout } from "./validate.js";

export interface FifoCreateOptions {
  /** Permission bits, applied exactly. Default 0o600. */
  mode?: number;
}

export interface FifoOpenOptions {
  /** Cancels waiting for the other end. */
  signal?: AbortSignal;
}

const READ_CHUNK = 64 * 1024;

function checkPath(value: unknown): string {
  const path = checkString(value, "path");
  if (path === "") throw invalidArgument("path must not be empty");
  return path;
}

function requireFifo(api: string): void {
  if (!capabilities.fifo) throw unsupported("fifo", api);
}

/** Read through a call so TypeScript does not assume an earlier check still holds after an await. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}


function nativeSource(reader: InstanceType<ReturnType<typeof nativeFor>["NativeFifoReader"]>): FifoSource {
  return {
    read: () => callNativeAsync(() => reader.read(READ_CHUNK)).then((chunk) => chunk ?? null),
    close: () => reader.close(),
  };
}

function nativeSink(writer: InstanceType<ReturnType<typeof nativeFor>["NativeFifoWriter"]>): FifoSink {
  return {
    write: (data) => callNativeAsync(() => writer.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength))),
    writeSync: (data, timeout) => callNative(() => writer.writeSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength), timeout)),
    close: () => writer.close(),
  };
}

/**
 * Named pipes (mkfifo). Opening never blocks the event loop: natively, the reader opens at once
 * and the writer retries a non-blocking open on a timer until a reader exists (a writer's open
 * cannot be watched by poll), so no thread is parked; the JS backend opens on a pool thread.
 */
export class Fifo {
  private constructor() {}

  static create(path: string, options?: FifoCreateOptions): void {
    requireFifo("Fifo.create");
    const p = checkPath(path);
    const mode = checkMode(checkOptions<FifoCreateOptions>(options, "Fifo.create").mode);
    if (backend === "native") {
      const binding = nativeFor("fifo", "Fifo.create");
      callNative(() => binding.fifoCreate(p, mode));
    } else {
      createFifo(p, mode);
    }
  }

  static unlink(path: string): void {
    requireFifo("Fifo.unlink");
    const p = checkPath(path);
    checkIsFifo(p);
    try {
      unlinkSync(p);
    } catch (error) {
      throw new IpcError("ERR_IPC_OS", `unlink ${p}: ${String(error)}`, { cause: error });
    }
  }

  /** The read end. Reads wait for a writer and data; EOF once the last writer closes. */
  static async openReader(path: string, options?: FifoOpenOptions): Promise<FifoReader> {
    requireFifo("Fifo.openReader");
    const p = checkPath(path);
    const signal = checkSignal(checkOptions<FifoOpenOptions>(options, "Fifo.openReader").signal);
    if (signal?.aborted === true) throw signal.reason;
    if (backend === "js") return new FifoReader(p, await openReaderJs(p, signal));
    const binding = nativeFor("fifo", "Fifo.openReader");
    checkIsFifo(p);
    const reader = await callNativeAsync(() => binding.fifoOpenReader(p));
    if (aborted(signal)) {
      reader.close();
      throw signal!.reason;
    }
    return new FifoReader(p, nativeSource(reader));
  }

  /** The write end, once a reader has the FIFO open. */
  static async openWriter(path: string, options?: FifoOpenOptions): Promise<FifoWriter> {
    requireFifo("Fifo.openWriter");
    const p = checkPath(path);
    const signal = checkSignal(checkOptions<FifoOpenOptions>(options, "Fifo.openWriter").signal);
    if (signal?.aborted === true) throw signal.reason;
    if (backend === "js") return new FifoWriter(p, await openWriterJs(p, signal));
    const binding = nativeFor("fifo", "Fifo.openWriter");
    checkIsFifo(p);
    // A writer's open fails (ENXIO) until a reader exists and nothing signals when one arrives,
    // so retry with backoff: at most 50 ms late, no thread held.
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      const writer = await callNativeAsync(() => binding.fifoTryOpenWriter(p));
      if (writer !== null && writer !== undefined) {
        if (aborted(signal)) {
          writer.close();
          throw signal!.reason;
        }
        return new FifoWriter(p, nativeSink(writer));
      }
      await pause(delay, signal);
    }
  }
}

/** The read end of a FIFO: an async iterable of Uint8Array chunks, or a Web ReadableStream. */
export class FifoReader extends Handle {
  readonly #path: string;
  readonly #source: FifoSource;
  #eof = false;

  /** @internal Use Fifo.openReader(). */
  constructor(path: string, source: FifoSource) {
    super();
    this.#path = path;
    this.#source = source;
  }

  get path(): string {
    return this.#path;
  }

  /** The next chunk, or null at EOF (every writer has closed). */
  async read(): Promise<Uint8Array | null> {
    this.ensureOpen();
    if (this.#eof) return null;
    const chunk = await this.#source.read();
    if (chunk === null) this.#eof = true;
    return chunk;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await this.read();
      } catch (error) {
        if (this.closed) return;
        throw error;
      }
      if (chunk === null) return;
      yield chunk;
    }
  }

  /** A Web ReadableStream of the chunks; cancelling it closes the reader. */
  get readable(): ReadableStream<Uint8Array> {
    this.ensureOpen();
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.read();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: () => this.close(),
    });
  }

  protected describe(): string {
    return `FifoReader ${JSON.stringify(this.#path)}`;
  }

  protected freeResources(): void {
    this.#source.close();
  }
}

/** The write end of a FIFO. `write` resolves once the pipe took the bytes (backpressure). */
export class FifoWriter extends Handle {
  readonly #path: string;
  readonly #sink: FifoSink;

  /** @internal Use Fifo.openWriter(). */
  constructor(path: string, sink: FifoSink) {
    super();
    this.#path = path;
    this.#sink = sink;
  }

  get path(): string {
    return this.#path;
  }

  /** Rejects with ERR_IPC_CLOSED when the reader has gone. */
  async write(data: Uint8Array | string): Promise<void> {
    this.ensureOpen();
    await this.#sink.write(toBytes(data));
  }

  /** Blocks until the pipe took every byte. */
  writeSync(data: Uint8Array | string, options?: { timeout?: number }): void {
    this.ensureOpen();
    const timeout = checkTimeout(checkOptions<{ timeout?: number }>(options, "writeSync").timeout);
    if (timeout !== undefined && backend === "js") throw new IpcError("ERR_IPC_UNSUPPORTED", "FifoWriter.writeSync timeout needs the native backend");
    this.#sink.writeSync(toBytes(data), timeout);
  }

  /** A Web WritableStream; closing it closes the writer (the reader then sees EOF). */
  get writable(): WritableStream<Uint8Array | string> {
    this.ensureOpen();
    return new WritableStream<Uint8Array | string>({
      write: (chunk) => this.write(chunk),
      close: () => this.close(),
      abort: () => this.close(),
    });
  }

  protected describe(): string {
    return `FifoWriter ${JSON.stringify(this.#path)}`;
  }

  protected freeResources(): void {
    this.#sink.close();
  }
}
