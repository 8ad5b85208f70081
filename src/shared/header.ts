import { IpcError } from "../errors.js";
import type { SharedWords } from "./words.js";

/** Word indices and constants of LAYOUT.md's common header. */
export const MAGIC = 0;
export const VERSION = 1;
export const DATA_SIZE = 2;
export const HEADER_BYTES = 3;

export const LAYOUT_VERSION = 1;

export const MAGICS = {
  channel: 0x4e484349, // "ICHN"
  mutex: 0x58544d49, // "IMTX"
  semaphore: 0x4d455349, // "ISEM"
  event: 0x54564549, // "IEVT"
} as const;
export type Kind = keyof typeof MAGICS;

/** Fills the common header; the magic goes last so an opener never sees a half-made object. */
export function writeHeader(words: SharedWords, kind: Kind, headerBytes: number, dataSize: number): void {
  Atomics.store(words.i32, VERSION, LAYOUT_VERSION);
  Atomics.store(words.i32, DATA_SIZE, dataSize);
  Atomics.store(words.i32, HEADER_BYTES, headerBytes);
  Atomics.store(words.i32, MAGIC, MAGICS[kind]);
}

function kindOf(magic: number): string {
  for (const [k, v] of Object.entries(MAGICS)) if (v === magic) return `an ipckit ${k}`;
  return magic === 0 ? "uninitialised (its creator died or is still creating it)" : "not an ipckit object";
}

/** Refuses any segment whose header does not describe a `kind` of this layout version. */
export function checkHeader(words: SharedWords, kind: Kind, headerBytes: number, what: string): number {
  if (words.size < headerBytes) {
    throw new IpcError("ERR_IPC_INVALID_ARGUMENT", `${what}: segment of ${words.size} bytes is too small to be ${kind}`);
  }
  const magic = Atomics.load(words.i32, MAGIC);
  if (magic !== MAGICS[kind]) {
    throw new IpcError("ERR_IPC_INVALID_ARGUMENT", `${what} is not a ${kind}: the segment is ${kindOf(magic)}`);
  }
  const version = Atomics.load(words.i32, VERSION);
  if (version !== LAYOUT_VERSION) {
    throw new IpcError(
      "ERR_IPC_INVALID_ARGUMENT",
      `${what} has layout version ${version}, this ipckit speaks ${LAYOUT_VERSION}: use the same ipckit version in every process`,
    );
  }
  if (Atomics.load(words.i32, HEADER_BYTES) !== headerBytes) {
    throw new IpcError("ERR_IPC_INVALID_ARGUMENT", `${what} has a corrupt header (header size)`);
  }
  const dataSize = Atomics.load(words.i32, DATA_SIZE) >>> 0;
  if (headerBytes + dataSize !== words.size) {
    throw new IpcError(
      "ERR_IPC_INVALID_ARGUMENT",
      `${what} has a corrupt header: it claims ${dataSize} data bytes but the segment has ${words.size - headerBytes}`,
    );
  }
  return dataSize;
}
