import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from "node:child_process";
import process from "node:process";
import { backend, callNative, capabilities, nativeFor, unsupported } from "./backend.js";
import { Connection, resolveConnectionOptions, type ConnectionOptions } from "./connection.js";
import { IpcError, invalidArgument } from "./errors.js";
import { socketFromFd, socketPair } from "./fallback/net-transport.js";
import { checkOptions } from "./validate.js";

/**
 * A connected pair of Connections (multiprocessing.Pipe). Native: socketpair(2), so both ends
 * have descriptors at once. JS backend: a one-shot private Unix socket (or named pipe), so the
 * ends connect asynchronously; `await conn.ready` before reading `conn.fd`.
 */
export function Pipe(options?: ConnectionOptions): [Connection, Connection] {
  if (!capabilities.connection) throw unsupported("connection", "Pipe");
  const opts = resolveConnectionOptions(checkOptions<ConnectionOptions>(options, "Pipe"));
  if (backend === "native") {
    const binding = nativeFor("connection", "Pipe");
    const [a, b] = callNative(() => binding.socketPair());
    return [new Connection(socketFromFd(a!), opts, "Pipe end 0"), new Connection(socketFromFd(b!), opts, "Pipe end 1")];
  }
  const [a, b] = socketPair();
  return [new Connection(a, opts, "Pipe end 0"), new Connection(b, opts, "Pipe end 1")];
}

/** The environment variable that tells a child which descriptor its Connection is on. */
export const CONNECTION_FD_ENV = "IPCKIT_FD";

export interface SpawnWithConnectionOptions extends SpawnOptions, ConnectionOptions {}

/**
 * Spawns a child with one end of a Pipe in its next free stdio slot (3 by default) and
 * `IPCKIT_FD` set to that slot; the child continues with
 * `Connection.fromFd(Number(process.env.IPCKIT_FD))`. Returns the child and the parent's end.
 */
export async function spawnWithConnection(
  command: string,
  args: readonly string[] = [],
  options: SpawnWithConnectionOptions = {},
): Promise<{ child: ChildProcess; connection: Connection }> {
  const { codec, framing, maxMessageSize, stdio, env, ...spawnOptions } = checkOptions<SpawnWithConnectionOptions>(options, "spawnWithConnection");
  const connectionOptions: ConnectionOptions = {};
  if (codec !== undefined) connectionOptions.codec = codec;
  if (framing !== undefined) connectionOptions.framing = framing;
  if (maxMessageSize !== undefined) connectionOptions.maxMessageSize = maxMessageSize;
  const slots = normalizeStdio(stdio);
  const [mine, theirs] = Pipe(connectionOptions);
  try {
    await theirs.ready;
    const fd = theirs.fd;
    if (fd === undefined) throw new IpcError("ERR_IPC_UNSUPPORTED", "this runtime does not expose socket descriptors, so a Connection cannot be handed to a child");
    const child: ChildProcess = spawn(command, [...args], {
      ...spawnOptions,
      stdio: [...slots, fd] as StdioOptions,
      env: { ...(env ?? process.env), [CONNECTION_FD_ENV]: String(slots.length) },
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    return { child, connection: mine };
  } catch (error) {
    mine.close();
    throw error;
  } finally {
    // The child has its own copy now; ours closes without shutting the socket down for both.
    theirs.handOff();
  }
}

function normalizeStdio(stdio: StdioOptions | undefined): unknown[] {
  if (stdio === undefined) return ["inherit", "inherit", "inherit"];
  if (typeof stdio === "string") return [stdio, stdio, stdio];
  if (!Array.isArray(stdio)) throw invalidArgument("stdio must be a string or an array");
  const slots: unknown[] = [...stdio];
  while (slots.length < 3) slots.push("inherit");
  return slots;
}
