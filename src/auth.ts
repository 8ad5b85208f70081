import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { IpcError, invalidArgument } from "./errors.js";
import { toBytes } from "./codec.js";
import { describeValue } from "./validate.js";

/**
 * Mutual authentication before any message passes, the protocol of Python 3.12's
 * multiprocessing.connection (deliver_challenge / answer_challenge) with HMAC-SHA256:
 *   challenger -> "#CHALLENGE#{sha256}" + 40 random bytes
 *   answerer   -> "{sha256}" + HMAC(key, "{sha256}" + random bytes)
 *   challenger -> "#WELCOME#" or "#FAILURE#"
 * The server challenges first, then the client challenges the server, so each proves it knows
 * the key and neither learns it. The key never crosses the wire.
 */

export interface FrameIo {
  sendBytes(payload: Uint8Array): void;
  receiveBytes(): Promise<Uint8Array>;
}

const CHALLENGE = Buffer.from("#CHALLENGE#");
const WELCOME = Buffer.from("#WELCOME#");
const FAILURE = Buffer.from("#FAILURE#");
const DIGEST = "sha256";
const PREFIX = Buffer.from(`{${DIGEST}}`);
/** Longest handshake frame either side accepts (Python uses 256). */
export const HANDSHAKE_MAX = 256;

export function checkAuthKey(value: unknown): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)) {
    throw invalidArgument(`authKey must be a string or bytes, got ${describeValue(value)}`);
  }
  const key = toBytes(value, "authKey");
  if (key.length === 0) throw invalidArgument("authKey must not be empty");
  return key;
}

function refused(why: string): IpcError {
  return new IpcError("ERR_IPC_PERMISSION", `authentication failed: ${why}`);
}

function respond(key: Uint8Array, message: Buffer): Buffer {
  return Buffer.concat([PREFIX, createHmac(DIGEST, key).update(message).digest()]);
}

async function deliverChallenge(io: FrameIo, key: Uint8Array): Promise<void> {
  const message = Buffer.concat([PREFIX, randomBytes(40)]);
  io.sendBytes(Buffer.concat([CHALLENGE, message]));
  const answer = Buffer.from(await io.receiveBytes());
  const expected = respond(key, message);
  if (answer.length !== expected.length || !timingSafeEqual(answer, expected)) {
    io.sendBytes(FAILURE);
    throw refused("the peer does not know the authKey");
  }
  io.sendBytes(WELCOME);
}

async function answerChallenge(io: FrameIo, key: Uint8Array): Promise<void> {
  const frame = Buffer.from(await io.receiveBytes());
  if (!frame.subarray(0, CHALLENGE.length).equals(CHALLENGE)) throw refused("the peer did not send a challenge (does it use an authKey?)");
  const message = frame.subarray(CHALLENGE.length);
  if (!message.subarray(0, PREFIX.length).equals(PREFIX)) throw refused("the peer asked for an unsupported digest");
  io.sendBytes(respond(key, message));
  const verdict = Buffer.from(await io.receiveBytes());
  if (!verdict.equals(WELCOME)) throw refused("the peer refused our authKey");
}

export async function serverHandshake(io: FrameIo, key: Uint8Array): Promise<void> {
  await deliverChallenge(io, key);
  await answerChallenge(io, key);
}

export async function clientHandshake(io: FrameIo, key: Uint8Array): Promise<void> {
  await answerChallenge(io, key);
  await deliverChallenge(io, key);
}
