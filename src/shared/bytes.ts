import { invalidArgument } from "../errors.js";
import { describeValue } from "../validate.js";

const encoder = new TextEncoder();

/** A message as bytes, without copying when it already is bytes (strings become UTF-8). */
export function toBytes(data: unknown, what = "data"): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return encoder.encode(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw invalidArgument(`${what} must be a Uint8Array, Buffer, ArrayBuffer, typed array or string, got ${describeValue(data)}`);
}
