/**
 * One side of a benchmark pair, run as its own process by src/bench/suite.ts:
 *   peer.js <transport> <test> <role> <address> <size> <count>
 * transport: channel | channel-batch | queue | connection | mq | sysv | net | fork;  test: rtt | stream;  role: server | client.
 * Prints "ready" when listening, and the measuring side prints "result <json>".
 */
import { fork } from "node:child_process";
import { createServer, connect, type Socket } from "node:net";
import process from "node:process";
import { backend } from "../backend.js";
import { Channel } from "../channel.js";
import { Queue } from "../queue.js";
import { measureRtt, measureRttSync, payload, report, smallObject, streamResult, type PeerResult } from "./measure.js";
import { connectionPeer } from "./peer-connection.js";
import { messageQueuePeer } from "./peer-message-queue.js";
import { sysvQueuePeer } from "./peer-sysv-queue.js";

export type { PeerResult } from "./measure.js";

const BATCH = 64;

// ---- channel (bytes; sync forms spin then sleep) ----

async function channelPeer(test: string, role: string, address: string, size: number, count: number, batch: boolean): Promise<void> {
  const [a, b] = address.split(",") as [string, string];
  if (test === "rtt") {
    if (role === "server") {
      const capacity = Math.max(1 << 16, 8 * (size + 8));
      const rx = Channel.create(a, { capacity });
      const tx = Channel.create(b, { capacity });
      console.log("ready");
      for (;;) {
        const m = rx.receiveSync();
        if (m.length === 0) break;
        tx.sendSync(m);
      }
      rx.close();
      tx.close();
      Channel.unlink(a);
      Channel.unlink(b);
      return;
    }
    const tx = Channel.open(a);
    const rx = Channel.open(b);
    const msg = payload(size);
    const asyncForms = process.env.IPCKIT_BENCH_ASYNC === "1";
    const rttUs = asyncForms
      ? await measureRtt(count, async () => {
          await tx.send(msg);
          await rx.receive();
        })
      : measureRttSync(count, () => {
          tx.sendSync(msg);
          rx.receiveSync();
        });
    tx.sendSync(new Uint8Array(0));
    report({ rttUs });
    return;
  }
  if (role === "server") {
    const ch = Channel.create(a, { capacity: Math.max(1 << 20, 8 * (size + 8)) });
    console.log("ready");
    let got = 0;
    let start = 0n;
    // Large messages go into one reused buffer (receiveIntoSync): no allocation per message.
    const into = size >= 64 * 1024 ? new Uint8Array(size) : undefined;
    while (got < count) {
      const n = batch ? ch.receiveManySync(1024).length : (into ? ch.receiveIntoSync(into) : ch.receiveSync(), 1);
      if (got === 0) start = process.hrtime.bigint();
      got += n;
    }
    report(streamResult(got - (batch ? 0 : 0), size, start));
    ch.close();
    Channel.unlink(a);
    return;
  }
  const ch = Channel.open(a);
  const msg = payload(size);
  if (batch) {
    const list = new Array<Uint8Array>(BATCH).fill(msg);
    for (let i = 0; i < count; i += BATCH) ch.sendManySync(i + BATCH <= count ? list : list.slice(0, count - i));
  } else {
    for (let i = 0; i < count; i++) ch.sendSync(msg);
  }
  ch.close();
}

// ---- Queue (small JS objects, structured codec) ----

async function queuePeer(role: string, address: string, count: number): Promise<void> {
  if (role === "server") {
    const codec = (process.env.IPCKIT_BENCH_CODEC ?? "structured") as "structured" | "json" | "msgpack";
    const q = Queue.create(address, { capacity: 1 << 20, codec });
    console.log("ready");
    await q.get();
    const start = process.hrtime.bigint();
    for (let i = 1; i < count; i++) await q.get();
    report(streamResult(count, 0, start));
    q.close();
    if (backend === "native") Queue.unlink(address); // under js the host's close removed its socket
    return;
  }
  const q = Queue.open(address);
  for (let i = 0; i < count; i++) await q.put(smallObject(i));
  q.close();
}

// ---- Node net over a Unix socket (length-prefixed frames) ----

function frames(socket: Socket, onFrame: (frame: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const n = pending.readUInt32LE(0);
      if (pending.length < 4 + n) break;
      onFrame(pending.subarray(4, 4 + n));
      pending = pending.subarray(4 + n);
    }
  });
}

function frame(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32LE(bytes.length, 0);
  out.set(bytes, 4);
  return out;
}

async function netPeer(test: string, role: string, address: string, size: number, count: number): Promise<void> {
  if (role === "server") {
    await new Promise<void>((resolve) => {
      const server = createServer((socket) => {
        let got = 0;
        let start = 0n;
        frames(socket, (f) => {
          if (test === "rtt") {
            if (f.length === 0) {
              socket.end();
              server.close();
              resolve();
            } else socket.write(frame(f));
            return;
          }
          if (got === 0) start = process.hrtime.bigint();
          if (++got === count) {
            report(streamResult(count, size, start));
            socket.end();
            server.close();
            resolve();
          }
        });
      });
      server.listen(address, () => console.log("ready"));
    });
    return;
  }
  const socket = connect(address);
  await new Promise<void>((r) => socket.once("connect", () => r()));
  socket.setNoDelay(true);
  const msg = frame(payload(size));
  if (test === "rtt") {
    let wake: (() => void) | undefined;
    frames(socket, () => wake?.());
    const rttUs = await measureRtt(count, () => new Promise<void>((r) => ((wake = r), socket.write(msg))));
    socket.write(frame(new Uint8Array(0)));
    report({ rttUs });
    socket.end();
    return;
  }
  for (let i = 0; i < count; i++) {
    if (!socket.write(msg)) await new Promise((r) => socket.once("drain", r));
  }
  await new Promise<void>((r) => socket.end(r));
}

// ---- child_process.fork IPC (json serialization) ----

async function forkPeer(test: string, role: string, size: number, count: number, objects: boolean): Promise<void> {
  if (role === "server") {
    // The forked child: echo (rtt) or count (stream).
    let got = 0;
    let start = 0n;
    process.on("message", (m: unknown) => {
      if (test === "rtt") {
        if (m === "end") process.disconnect();
        else process.send!(m);
        return;
      }
      if (got === 0) start = process.hrtime.bigint();
      if (++got === count) {
        process.send!({ result: streamResult(count, objects ? 0 : size, start) });
        process.disconnect();
      }
    });
    return;
  }
  const self = process.argv[1]!;
  const child = fork(self, ["fork", test, "server", "-", String(size), String(count), objects ? "objects" : "bytes"], {
    serialization: "json",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pinChild = process.env.IPCKIT_BENCH_PIN_CHILD;
  if (pinChild !== undefined && child.pid !== undefined) {
    const { execFileSync } = await import("node:child_process");
    execFileSync("taskset", ["-p", "-c", pinChild, String(child.pid)], { stdio: "ignore" });
  }
  const text = "x".repeat(size);
  if (test === "rtt") {
    let wake: (() => void) | undefined;
    child.on("message", () => wake?.());
    const rttUs = await measureRtt(count, () => new Promise<void>((r) => ((wake = r), child.send(text))));
    child.send("end");
    report({ rttUs });
    return;
  }
  const done = new Promise<PeerResult>((r) => child.on("message", (m: { result: PeerResult }) => r(m.result)));
  for (let i = 0; i < count; i++) {
    const ok = child.send(objects ? smallObject(i) : text);
    if (!ok && i % 256 === 0) await new Promise((r) => setImmediate(r));
  }
  report(await done);
}

async function main(argv: string[]): Promise<void> {
  const [transport, test, role, address, sizeArg, countArg, extra] = argv;
  const size = Number(sizeArg);
  const count = Number(countArg);
  switch (transport) {
    case "channel":
    case "channel-batch":
      return channelPeer(test!, role!, address!, size, count, transport === "channel-batch");
    case "queue":
      return queuePeer(role!, address!, count);
    case "connection":
      return connectionPeer(test!, role!, address!, size, count);
    case "mq":
      return messageQueuePeer(test!, role!, address!, size, count);
    case "sysv":
      return sysvQueuePeer(test!, role!, address!, size, count);
    case "net":
      return netPeer(test!, role!, address!, size, count);
    case "fork":
      return forkPeer(test!, role!, size, count, extra === "objects");
    default:
      throw new Error(`unknown transport ${transport}`);
  }
}

await main(process.argv.slice(2));
