/** Stable error codes: programs match on these, never on messages. */
export type IpcErrorCode =
  | "ERR_IPC_EXISTS"
  | "ERR_IPC_NOT_FOUND"
  | "ERR_IPC_PERMISSION"
  | "ERR_IPC_TIMEOUT"
  | "ERR_IPC_ABORTED"
  | "ERR_IPC_CLOSED"
  | "ERR_IPC_INVALID_ARGUMENT"
  | "ERR_IPC_TOO_LARGE"
  | "ERR_IPC_LIMIT"
  | "ERR_IPC_UNSUPPORTED"
  | "ERR_OWNER_DIED"
  | "ERR_IPC_BUSY"
  | "ERR_IPC_PROTOCOL"
  | "ERR_IPC_OS";

const KNOWN_CODES: ReadonlySet<string> = new Set<IpcErrorCode>([
  "ERR_IPC_EXISTS",
  "ERR_IPC_NOT_FOUND",
  "ERR_IPC_PERMISSION",
  "ERR_IPC_TIMEOUT",
  "ERR_IPC_ABORTED",
  "ERR_IPC_CLOSED",
  "ERR_IPC_INVALID_ARGUMENT",
  "ERR_IPC_TOO_LARGE",
  "ERR_IPC_LIMIT",
  "ERR_IPC_UNSUPPORTED",
  "ERR_OWNER_DIED",
  "ERR_IPC_BUSY",
  "ERR_IPC_PROTOCOL",
  "ERR_IPC_OS",
]);

export interface IpcErrorOptions {
  errno?: number;
  syscall?: string;
  cause?: unknown;
}

export class IpcError extends Error {
  readonly code: IpcErrorCode;
  readonly errno?: number;
  readonly syscall?: string;

  constructor(code: IpcErrorCode, message: string, options: IpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "IpcError";
    this.code = code;
    if (options.errno !== undefined) this.errno = options.errno;
    if (options.syscall !== undefined) this.syscall = options.syscall;
  }
}

export function isIpcErrorCode(code: string): code is IpcErrorCode {
  return KNOWN_CODES.has(code);
}

export function invalidArgument(message: string): IpcError {
  return new IpcError("ERR_IPC_INVALID_ARGUMENT", message);
}

export function closedError(what: string): IpcError {
  return new IpcError("ERR_IPC_CLOSED", `${what} is closed`);
}

/** The native core encodes errors as "CODE\x1fERRNO\x1fSYSCALL\x1fmessage" (crate/src/glue/convert.rs). */
export function fromNativeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const parts = error.message.split("\x1f");
  if (parts.length === 4) {
    const [code = "", errno = "", syscall = "", message = ""] = parts;
    if (isIpcErrorCode(code)) {
      const options: IpcErrorOptions = {};
      if (errno !== "") options.errno = Number(errno);
      if (syscall !== "") options.syscall = syscall;
      return new IpcError(code, message, options);
    }
  }
  // napi's own argument conversion failed: the facade let a bad value through.
  if ((error as { code?: unknown }).code === "InvalidArg" || error instanceof TypeError) {
    return new IpcError("ERR_IPC_INVALID_ARGUMENT", error.message, { cause: error });
  }
  return error;
}
