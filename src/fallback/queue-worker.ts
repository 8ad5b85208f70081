/**
 * The worker behind a js-backend Queue handle. Role "host": holds the queue (QueueState) and
 * serves it on a Unix socket, and to this process's main thread. Role "client": one socket
 * Connection to the host, relaying the main thread's requests. Living in a worker is what lets
 * the main thread block (getSync) while the queue keeps being served.
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { Connection } from "../connection.js";
import { IpcError } from "../errors.js";
import { connect, listen, type Listener } from "../listener.js";
import { Op, Status, decodeReply, decodeRequest, encodeReply, encodeRequest, errorReply, jsonBytes, type QueueInfo, type Reply, type Request } from "./queue-protocol.js";
import { QueueState, type Requester } from "./queue-state.js";

export interface QueueWorkerData {
  role: "host" | "client";
  path: string;
  label: string;
  info?: QueueInfo;
  sab: SharedArrayBuffer;
  port: MessagePort;
}

/** A request from the main thread; `sync`: it is blocked in Atomics.wait for the answer. */
export interface MainRequest extends Request {
  sync: boolean;
}

const data = workerData as QueueWorkerData;
const flag = new Int32Array(data.sab);
const syncIds = new Set<number>();

function toMain(reply: Reply): void {
  if (syncIds.delete(reply.id)) {
    data.port.postMessage(reply);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  } else {
    parentPort!.postMessage(reply);
  }
}

function failure(id: number, error: unknown): Reply {
  const e = error instanceof IpcError ? error : new IpcError("ERR_IPC_CLOSED", String((error as Error)?.message ?? error));
  return errorReply(id, e.code, e.message);
}

const closedReply = (id: number): Reply => errorReply(id, "ERR_IPC_CLOSED", `${data.label}: the process hosting it has closed it or exited`);

async function host(): Promise<(request: MainRequest) => void> {
  const state = new QueueState(data.info!);
  const listener: Listener = await listen(data.path, { codec: "bytes" });
  const peers = new Set<Connection>();
  void (async () => {
    for (;;) {
      let connection: Connection;
      try {
        connection = await listener.accept();
      } catch {
        return;
      }
      peers.add(connection);
      void serve(state, connection).finally(() => peers.delete(connection));
    }
  })();
  const local: Requester = { reply: toMain };
  return (request) => {
    if (request.op !== Op.close) return state.handle(local, request);
    listener.close();
    for (const peer of peers) peer.close();
    toMain({ id: request.id, status: Status.ok, arg: 0 });
  };
}

async function serve(state: QueueState, connection: Connection): Promise<void> {
  const peer: Requester = { reply: (r) => void connection.send(encodeReply(r)).catch(() => undefined) };
  try {
    for (;;) state.handle(peer, decodeRequest((await connection.receive()) as Uint8Array));
  } catch {
    state.drop(peer);
    connection.close();
  }
}

async function client(): Promise<(request: MainRequest) => void> {
  let connection: Connection | undefined;
  try {
    connection = await connect(data.path, { codec: "bytes" });
  } catch (error) {
    if ((error as IpcError).code !== "ERR_IPC_NOT_FOUND") throw error;
    throw new IpcError("ERR_IPC_NOT_FOUND", `${data.label} does not exist (no live process hosts it)`);
  }
  const outstanding = new Set<number>();
  let dead = false;
  const live = connection;
  void (async () => {
    try {
      for (;;) {
        const reply = decodeReply((await live.receive()) as Uint8Array);
        outstanding.delete(reply.id);
        toMain(reply);
      }
    } catch {
      dead = true;
      live.close();
      for (const id of outstanding) toMain(closedReply(id));
      outstanding.clear();
    }
  })();
  return (request) => {
    if (request.op === Op.close) {
      dead = true;
      live.close();
      return toMain({ id: request.id, status: Status.ok, arg: 0 });
    }
    if (dead) return toMain(closedReply(request.id));
    if (request.op !== Op.cancel) outstanding.add(request.id);
    live.send(encodeRequest(request)).catch(() => undefined);
  };
}

async function start(): Promise<void> {
  // id 0 answers the main thread, blocked until the queue is served (host) or reached (client).
  syncIds.add(0);
  let handle: (request: MainRequest) => void;
  try {
    handle = data.role === "host" ? await host() : await client();
  } catch (error) {
    toMain(failure(0, error));
    handle = (request) => toMain(request.op === Op.close ? { id: request.id, status: Status.ok, arg: 0 } : closedReply(request.id));
  }
  if (!syncIds.has(0)) {
    // already answered: it failed
  } else if (data.role === "host") {
    toMain({ id: 0, status: Status.ok, arg: 0, bytes: jsonBytes(data.info) });
  } else {
    // The info comes from the host itself: that is how Queue.open learns maxsize and codec.
    handle({ id: 0, op: Op.info, arg: 0, sync: true });
  }
  parentPort!.on("message", (request: MainRequest) => {
    if (request.sync) syncIds.add(request.id);
    handle(request);
  });
}

void start();
