import process from "node:process";
import { IpcError, invalidArgument } from "./errors.js";
import { checkString, describeValue } from "./validate.js";

/**
 * Where a Connection listens or connects:
 * - a filesystem path: a Unix domain socket (under 100 bytes: Node truncates longer paths
 *   silently, Deno and Bun refuse them);
 * - `"@name"`: a Linux abstract socket (Node only: Deno and Bun spell the name differently);
 * - `"\\\\.\\pipe\\name"`: a Windows named pipe;
 * - `"tcp://host:port"`: TCP; `listen` binds 127.0.0.1 when the host is empty (`"tcp://:8080"`).
 */
export type Address =
  | { kind: "unix"; path: string }
  | { kind: "abstract"; name: string }
  | { kind: "pipe"; path: string }
  | { kind: "tcp"; host: string; port: number; explicitHost: boolean };

/** Longest socket path every runtime accepts (sun_path is 104 bytes on macOS, 108 on Linux). */
export const MAX_SOCKET_PATH = 99;

const WINDOWS_PIPE = /^\\\\[.?]\\pipe\\[^\\]+/i;

export function parseAddress(value: unknown): Address {
  const text = checkString(value, "address");
  if (text === "") throw invalidArgument("address must not be empty");
  if (text.startsWith("tcp://")) return parseTcp(text);
  if (WINDOWS_PIPE.test(text)) {
    if (process.platform !== "win32") {
      throw new IpcError("ERR_IPC_UNSUPPORTED", `named pipe ${describeValue(text)} exists only on Windows; use a socket path here`);
    }
    return { kind: "pipe", path: text };
  }
  if (text.startsWith("@")) {
    if (process.platform !== "linux") throw new IpcError("ERR_IPC_UNSUPPORTED", "abstract sockets (@name) exist only on Linux");
    if (text.length < 2 || Buffer.byteLength(text) > MAX_SOCKET_PATH) throw invalidArgument(`bad abstract socket name ${describeValue(text)}`);
    return { kind: "abstract", name: text.slice(1) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw invalidArgument(`unknown address scheme in ${describeValue(text)}: only tcp:// is supported`);
  if (process.platform === "win32") {
    throw new IpcError("ERR_IPC_UNSUPPORTED", `on Windows use a named pipe (\\\\.\\pipe\\name) or tcp://, got ${describeValue(text)}`);
  }
  if (Buffer.byteLength(text) > MAX_SOCKET_PATH) {
    throw invalidArgument(`socket path is ${Buffer.byteLength(text)} bytes; keep it under ${MAX_SOCKET_PATH + 1} (runtimes truncate or refuse longer ones)`);
  }
  return { kind: "unix", path: text };
}

function parseTcp(text: string): Address {
  const rest = text.slice("tcp://".length);
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:/[\]]*)):(\d{1,5})\/?$/.exec(rest);
  if (match === null) throw invalidArgument(`bad TCP address ${describeValue(text)}: use tcp://host:port`);
  const host = match[1] ?? match[2] ?? "";
  const port = Number(match[3]);
  if (port > 65535) throw invalidArgument(`TCP port must be 0..65535, got ${port}`);
  return { kind: "tcp", host: host === "" ? "127.0.0.1" : host, port, explicitHost: host !== "" };
}

export function formatAddress(address: Address): string {
  switch (address.kind) {
    case "unix":
    case "pipe":
      return address.path;
    case "abstract":
      return `@${address.name}`;
    case "tcp":
      return `tcp://${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
  }
}

/** What node:net's listen/connect take for it. */
export function netPath(address: Exclude<Address, { kind: "tcp" }>): string {
  return address.kind === "abstract" ? `\0${address.name}` : address.path;
}
