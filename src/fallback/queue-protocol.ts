/**
 * Messages between a Queue handle and the process hosting the queue (the js backend's Queue).
 * On the socket each is one frame: op or status (u8), request id (u32), a number (f64), then bytes.
 * Between a handle's main thread and its worker the same fields travel as plain objects.
 */
export const Op = { put: 1, get: 2, size: 3, cancel: 4, info: 5, close: 6 } as const;
export type OpCode = (typeof Op)[keyof typeof Op];

export const Status = { ok: 0, busy: 1, timeout: 2, cancelled: 3, error: 4 } as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

/** `arg`: for put/get the wait in ms (-1 forever, 0 never); for cancel the id to cancel. */
export interface Request {
  id: number;
  op: OpCode;
  arg: number;
  bytes?: Uint8Array;
}

/** `arg`: the item count for size; `bytes`: the item (get), the queue's info (info), or {code, message} (error). */
export interface Reply {
  id: number;
  status: StatusCode;
  arg: number;
  bytes?: Uint8Array;
}

/** What Queue.open learns from the host. */
export interface QueueInfo {
  maxsize: number;
  codecId: number;
  /** Largest encoded item accepted (0: no limit beyond the socket's message size). */
  maxItem: number;
}

const HEADER = 13;

function encode(code: number, id: number, arg: number, bytes: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(HEADER + (bytes?.length ?? 0));
  const view = new DataView(out.buffer);
  view.setUint8(0, code);
  view.setUint32(1, id, true);
  view.setFloat64(5, arg, true);
  if (bytes !== undefined) out.set(bytes, HEADER);
  return out;
}

function decode(frame: Uint8Array): { code: number; id: number; arg: number; bytes: Uint8Array | undefined } {
  if (frame.length < HEADER) throw new Error(`queue protocol: short frame (${frame.length} bytes)`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const bytes = frame.length > HEADER ? frame.subarray(HEADER) : undefined;
  return { code: view.getUint8(0), id: view.getUint32(1, true), arg: view.getFloat64(5, true), bytes };
}

export function encodeRequest(r: Request): Uint8Array {
  return encode(r.op, r.id, r.arg, r.bytes);
}

export function decodeRequest(frame: Uint8Array): Request {
  const { code, id, arg, bytes } = decode(frame);
  return { op: code as OpCode, id, arg, ...(bytes === undefined ? {} : { bytes }) };
}

export function encodeReply(r: Reply): Uint8Array {
  return encode(r.status, r.id, r.arg, r.bytes);
}

export function decodeReply(frame: Uint8Array): Reply {
  const { code, id, arg, bytes } = decode(frame);
  return { status: code as StatusCode, id, arg, ...(bytes === undefined ? {} : { bytes }) };
}

export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function fromJsonBytes<T>(bytes: Uint8Array | undefined): T {
  return JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())) as T;
}

export function errorReply(id: number, code: string, message: string): Reply {
  return { id, status: Status.error, arg: 0, bytes: jsonBytes({ code, message }) };
}
