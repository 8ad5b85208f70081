import { deserialize, serialize } from "node:v8";
import { pack, unpack } from "msgpackr";
import { invalidArgument } from "./errors.js";
import { describeValue } from "./validate.js";

/**
 * How Queue turns JS values into bytes. A tiny internal seam: when `src/codec.ts` (the
 * Connection work) lands, Queue switches to it by replacing this table.
 */
export interface ValueCodec {
  readonly name: QueueCodecName;
  /** Stored in the channel header so `Queue.open` decodes what `Queue.create` chose. */
  readonly id: number;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

export type QueueCodecName = "structured" | "json" | "msgpack";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const CODECS: readonly ValueCodec[] = [
  {
    name: "structured",
    id: 1,
    // v8's structured serialization (Map, Set, Date, typed arrays, cycles, bigint). Bun and Deno
    // implement node:v8 too; the byte format is the engine's, so mix runtimes with json/msgpack.
    encode: (value) => serialize(value),
    decode: (bytes) => deserialize(bytes),
  },
  {
    name: "json",
    id: 2,
    encode: (value) => {
      const text = JSON.stringify(value);
      if (text === undefined) throw invalidArgument(`the json codec cannot encode ${describeValue(value)}`);
      return encoder.encode(text);
    },
    decode: (bytes) => JSON.parse(decoder.decode(bytes)) as unknown,
  },
  {
    name: "msgpack",
    id: 3,
    encode: (value) => pack(value),
    decode: (bytes) => unpack(bytes) as unknown,
  },
];

export function codecByName(name: unknown): ValueCodec {
  const codec = CODECS.find((c) => c.name === name);
  if (codec === undefined) {
    throw invalidArgument(`codec must be one of ${CODECS.map((c) => JSON.stringify(c.name)).join(", ")}, got ${describeValue(name)}`);
  }
  return codec;
}

export function codecById(id: number): ValueCodec | undefined {
  return CODECS.find((c) => c.id === id);
}
