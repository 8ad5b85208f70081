import { unlinkSync } from "node:fs";
import { callNative, nativeFor, type Binding } from "./backend.js";
import { IpcError } from "./errors.js";
import { Handle } from "./handle.js";
import { checkBoolean, checkInteger, checkMode, checkObjectName, checkOptions, checkString } from "./validate.js";

type NativeSegment = InstanceType<Binding["NativeSharedMemory"]>;

export interface SharedMemoryCreateOptions {
  /** Bytes; at least 1, and no more than the shared-memory filesystem has free. */
  size: number;
  /** Permission bits, applied exactly (not reduced by the umask). Default 0o600. */
  mode?: number;
  /** Refuse an existing name with ERR_IPC_EXISTS. Default true. */
  exclusive?: boolean;
}

export interface SharedMemoryOpenOptions {
  /**
   * Map without write access to the object. Writes through `buffer` then stay private to this
   * process (copy-on-write pages): they never fault and never reach other processes.
   */
  readonly?: boolean;
}

export interface SharedMemoryFromFileOptions {
  /** Bytes to map; a shorter file is extended. Default: the file's length. */
  size?: number;
  /** Create the file if it does not exist (symlinks are never followed). Default false. */
  create?: boolean;
  /** Permission bits for a created file. Default 0o600. */
  mode?: number;
}

const API = "SharedMemory";

function native(): Binding {
  return nativeFor("sharedMemory", API);
}

function checkSize(value: unknown): number {
  return checkInteger(value, "size", 1);
}

/**
 * A named POSIX shared-memory segment (or a mapped file). `buffer` is the mapping itself:
 * what one process writes, every other process that mapped it sees, with no call in between.
 */
export class SharedMemory extends Handle {
  readonly #segment: NativeSegment;
  readonly #name: string;
  readonly #size: number;
  readonly #fileBacked: boolean;
  #buffer: ArrayBuffer | undefined;

  private constructor(segment: NativeSegment, fileBacked: boolean) {
    super();
    this.#segment = segment;
    this.#name = segment.name;
    this.#size = segment.size;
    this.#fileBacked = fileBacked;
  }

  static create(name: string, options: SharedMemoryCreateOptions): SharedMemory {
    const binding = native();
    const objectName = checkObjectName(name);
    const opts = checkOptions<SharedMemoryCreateOptions>(options, "SharedMemory.create");
    const size = checkSize(opts.size);
    const mode = checkMode(opts.mode);
    const exclusive = checkBoolean(opts.exclusive, "exclusive", true);
    return new SharedMemory(
      callNative(() => binding.NativeSharedMemory.create(objectName, size, mode, exclusive)),
      false,
    );
  }

  static open(name: string, options?: SharedMemoryOpenOptions): SharedMemory {
    const binding = native();
    const objectName = checkObjectName(name);
    const opts = checkOptions<SharedMemoryOpenOptions>(options, "SharedMemory.open");
    const readonly = checkBoolean(opts.readonly, "readonly", false);
    return new SharedMemory(
      callNative(() => binding.NativeSharedMemory.open(objectName, readonly)),
      false,
    );
  }

  static fromFile(path: string, options?: SharedMemoryFromFileOptions): SharedMemory {
    const binding = native();
    const filePath = checkString(path, "path");
    if (filePath === "") throw new IpcError("ERR_IPC_INVALID_ARGUMENT", "path must not be empty");
    const opts = checkOptions<SharedMemoryFromFileOptions>(options, "SharedMemory.fromFile");
    const size = opts.size === undefined ? undefined : checkSize(opts.size);
    const create = checkBoolean(opts.create, "create", false);
    const mode = checkMode(opts.mode);
    return new SharedMemory(
      callNative(() => binding.NativeSharedMemory.fromFile(filePath, size, create, mode)),
      true,
    );
  }

  /** Removes the name; processes that have it mapped keep their mapping. */
  static unlink(name: string): void {
    const binding = native();
    const objectName = checkObjectName(name);
    callNative(() => binding.shmUnlink(objectName));
  }

  /** The POSIX name (`/frames`), or the path of a file-backed mapping. */
  get name(): string {
    return this.#name;
  }

  get size(): number {
    return this.#size;
  }

  /** The mapping as an ArrayBuffer (zero-copy). Detached by `close()`. */
  get buffer(): ArrayBuffer {
    this.ensureOpen();
    this.#buffer ??= callNative(() => this.#segment.buffer());
    return this.#buffer;
  }

  /** Removes the name (or the file) so nobody new can open it; this mapping stays usable. */
  unlink(): void {
    if (!this.#fileBacked) {
      SharedMemory.unlink(this.#name);
      return;
    }
    try {
      unlinkSync(this.#name);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new IpcError(code === "ENOENT" ? "ERR_IPC_NOT_FOUND" : "ERR_IPC_OS", `unlink ${this.#name}: ${String(error)}`, {
        syscall: "unlink",
        cause: error,
      });
    }
  }

  protected describe(): string {
    return `SharedMemory ${JSON.stringify(this.#name)}`;
  }

  protected freeResources(): void {
    // Detaching first means no JS view can reach the pages; the mapping itself goes when the
    // engine finalizes the buffer (now or on a later tick, depending on the runtime).
    if (this.#buffer !== undefined) native().detachArrayBuffer(this.#buffer);
    this.#buffer = undefined;
    this.#segment.close();
  }
}
