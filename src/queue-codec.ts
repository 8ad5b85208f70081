import process from "node:process";
import { getCodec, type Codec } from "./codec.js";
import { IpcError, invalidArgument } from "./errors.js";
import { describeValue } from "./validate.js";

/** The codecs a Queue can use (src/codec.ts does the work), and the ids its header records. */
export type QueueCodecName = "structured" | "json" | "msgpack";

export interface ValueCodec extends Codec {
  readonly name: QueueCodecName;
  /** Stored in the channel header so `Queue.open` decodes what `Queue.create` chose. */
  readonly id: number;
}

const IDS: Record<QueueCodecName, number> = { structured: 1, json: 2, msgpack: 3 };
const isBun = (process.versions as Record<string, string | undefined>).bun !== undefined;

/** "structured" where V8's serializer exists (Node, Deno); Bun writes another format, so msgpack there. */
export const DEFAULT_QUEUE_CODEC: QueueCodecName = isBun ? "msgpack" : "structured";

function make(name: QueueCodecName): ValueCodec {
  const codec = getCodec(name);
  return { name, id: IDS[name], encode: codec.encode, decode: codec.decode };
}

export function codecByName(name: unknown): ValueCodec {
  if (name !== "structured" && name !== "json" && name !== "msgpack") {
    throw invalidArgument(`codec must be "structured", "json" or "msgpack", got ${describeValue(name)}`);
  }
  if (name === "structured" && isBun) {
    throw new IpcError(
      "ERR_IPC_UNSUPPORTED",
      'the "structured" codec needs V8\'s serializer (Node or Deno); under Bun use "msgpack" (the default there) or "json"',
    );
  }
  return make(name);
}

export function codecById(id: number): ValueCodec | undefined {
  const name = (Object.keys(IDS) as QueueCodecName[]).find((n) => IDS[n] === id);
  return name === undefined ? undefined : codecByName(name);
}
