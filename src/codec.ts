import { Packr } from "msgpackr";
import * as v8 from "node:v8";
import process from "node:process";
import { IpcError, invalidArgument } from "./errors.js";
import { describeValue } from "./validate.js";

/**
 * Turning JS values into message bytes and back. Every codec is a pair of pure functions, so
 * any transport (Connection, Queue, a file) can use them:
 *
 * - `"bytes"`: the payload is the bytes themselves; accepts Uint8Array, any ArrayBuffer view,
 *   ArrayBuffer or string (UTF-8); decodes to Uint8Array. Peers that do not speak ipckit
 *   (Python's `Connection.send_bytes`) see exactly these bytes.
 * - `"json"`: UTF-8 JSON text.
 * - `"structured"`: the V8 serializer (`node:v8`), as `structuredClone` sees values: Map, Set,
 *   Date, RegExp, BigInt, typed arrays, cycles. Only where the runtime's `v8.serialize` is V8's
 *   own format (Node, Deno); Bun's is not, so it refuses there with ERR_IPC_UNSUPPORTED rather
 *   than sending bytes nobody else can read.
 * - `"msgpack"`: MessagePack (msgpackr), records off so any MessagePack reader can decode it.
 * - `"auto"` (Connection's default): one tag byte, then either the bytes (for a Uint8Array,
 *   ArrayBuffer view or ArrayBuffer) or JSON (for anything else), so bytes arrive as bytes and
 *   other values as values.
 */
export type CodecName = "bytes" | "json" | "structured" | "msgpack" | "auto";

export const CODEC_NAMES: readonly CodecName[] = ["bytes", "json", "structured", "msgpack", "auto"];

export interface Codec {
  readonly name: CodecName;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The bytes of a value the bytes codec accepts, without copying where possible. */
export function toBytes(value: unknown, what = "data"): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return encoder.encode(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw invalidArgument(`${what} must be a Uint8Array, ArrayBuffer view, ArrayBuffer or string, got ${describeValue(value)}`);
}

function decodeError(codec: string, cause: unknown): IpcError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new IpcError("ERR_IPC_PROTOCOL", `cannot decode a ${codec} message: ${message}`, { cause });
}

function encodeJson(value: unknown): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw invalidArgument(`value cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  // JSON.stringify(undefined) and of a function gives undefined: there is nothing to send.
  if (text === undefined) throw invalidArgument(`value cannot be sent as JSON: ${describeValue(value)}`);
  return encoder.encode(text);
}

function decodeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw decodeError("json", error);
  }
}

const bytesCodec: Codec = {
  name: "bytes",
  encode: (value) => toBytes(value, "a bytes-codec message"),
  decode: (bytes) => bytes,
};

const jsonCodec: Codec = { name: "json", encode: encodeJson, decode: decodeJson };

const isBun = (process.versions as Record<string, string | undefined>).bun !== undefined;

function refuseStructured(): never {
  throw new IpcError(
    "ERR_IPC_UNSUPPORTED",
    'the "structured" codec needs V8\'s serializer (Node or Deno); Bun\'s v8.serialize writes another format. Use "msgpack" or "json".',
  );
}

const structuredCodec: Codec = {
  name: "structured",
  encode(value) {
    if (isBun) refuseStructured();
    try {
      return v8.serialize(value);
    } catch (error) {
      throw invalidArgument(`value cannot be serialized: ${error instanceof Error ? error.message : String(error)}`);
    }
  },
  decode(bytes) {
    if (isBun) refuseStructured();
    try {
      return v8.deserialize(bytes);
    } catch (error) {
      throw decodeError("structured", error);
    }
  },
};

// useRecords off: plain MessagePack maps that Python's msgpack and others read without msgpackr.
const packr = new Packr({ useRecords: false, moreTypes: true });

const msgpackCodec: Codec = {
  name: "msgpack",
  encode(value) {
    try {
      return packr.pack(value);
    } catch (error) {
      throw invalidArgument(`value cannot be sent as msgpack: ${error instanceof Error ? error.message : String(error)}`);
    }
  },
  decode(bytes) {
    try {
      return packr.unpack(bytes);
    } catch (error) {
      throw decodeError("msgpack", error);
    }
  },
};

const TAG_BYTES = 0x62; // "b"
const TAG_JSON = 0x6a; // "j"

function isBinary(value: unknown): value is ArrayBufferView | ArrayBuffer {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

const autoCodec: Codec = {
  name: "auto",
  encode(value) {
    const body = isBinary(value) ? toBytes(value) : encodeJson(value);
    const out = new Uint8Array(body.length + 1);
    out[0] = isBinary(value) ? TAG_BYTES : TAG_JSON;
    out.set(body, 1);
    return out;
  },
  decode(bytes) {
    const tag = bytes[0];
    if (tag === TAG_BYTES) return bytes.subarray(1);
    if (tag === TAG_JSON) return decodeJson(bytes.subarray(1));
    throw new IpcError("ERR_IPC_PROTOCOL", `cannot decode an auto-codec message: unknown tag ${String(tag)}`);
  },
};

const CODECS: Record<CodecName, Codec> = {
  bytes: bytesCodec,
  json: jsonCodec,
  structured: structuredCodec,
  msgpack: msgpackCodec,
  auto: autoCodec,
};

/** The codec for a name; `undefined` gives `fallback`. Unknown names are refused. */
export function getCodec(name: unknown, fallback: CodecName = "auto"): Codec {
  if (name === undefined) return CODECS[fallback];
  if (typeof name !== "string" || !(CODEC_NAMES as readonly string[]).includes(name)) {
    throw invalidArgument(`codec must be one of ${CODEC_NAMES.map((n) => JSON.stringify(n)).join(", ")}, got ${describeValue(name)}`);
  }
  return CODECS[name as CodecName];
}

export function encode(codec: CodecName, value: unknown): Uint8Array {
  return getCodec(codec).encode(value);
}

export function decode(codec: CodecName, bytes: Uint8Array): unknown {
  return getCodec(codec).decode(bytes);
}
