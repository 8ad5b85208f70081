// One candidate's measurements, printed as JSON:  node client.js ipckit|net|fork
// (run.js runs every candidate, in alternation, and IPCKIT_BACKEND picks ipckit's backend).
import { fork, spawn } from "node:child_process";
import net from "node:net";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { onFrames, sendFrame } from "./net-framing.js";

const kind = process.argv[2];
const ROUND_TRIPS = Number(process.env.RT ?? 10_000);
const SMALL = Number(process.env.SMALL ?? 200_000);
const LARGE = Number(process.env.LARGE ?? 300);
const peerPath = fileURLToPath(new URL("./peer.js", import.meta.url));
const address = `/tmp/ipckit-bench-${process.pid}.sock`;

function tagged(tag, size) {
  const b = Buffer.alloc(size, 0x61);
  b[0] = tag.charCodeAt(0);
  return b;
}

/** A transport: send(bytes) -> Promise (backpressure), receive() -> Promise<bytes>. */
async function open() {
  rmSync(address, { force: true });
  if (kind === "fork") {
    const serialization = process.env.FORK_SERIALIZATION ?? "json";
    const child = fork(peerPath, ["fork"], { serialization });
    const inbox = [];
    const waiters = [];
    child.on("message", (m) => {
      if (m === "ready") return waiters.shift()?.(m);
      const w = waiters.shift();
      if (w) w(m);
      else inbox.push(m);
    });
    await new Promise((r) => waiters.push(r));
    const json = serialization === "json";
    return {
      send: (bytes) =>
        new Promise((resolve) => {
          // json IPC carries strings; latin1 keeps one character per byte.
          child.send(json ? bytes.toString("latin1") : bytes, resolve);
        }),
      receive: () => (inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise((r) => waiters.push(r))),
      close: () => child.kill(),
    };
  }
  const peer = spawn(process.execPath, [peerPath, kind, address], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve) => peer.stdout.once("data", resolve));
  if (kind === "ipckit") {
    const { connect, backend } = await import("../../dist/index.js");
    const connection = await connect(address, { codec: "bytes" });
    return { backend, send: (b) => connection.send(b), receive: () => connection.receive(), close: () => { connection.close(); peer.kill(); } };
  }
  const socket = net.connect(address);
  socket.setNoDelay(true);
  await new Promise((r) => socket.once("connect", r));
  const inbox = [];
  const waiters = [];
  onFrames(socket, (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  return {
    send: (b) => (sendFrame(socket, b) ? Promise.resolve() : new Promise((r) => socket.once("drain", r))),
    receive: () => (inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise((r) => waiters.push(r))),
    close: () => { socket.end(); peer.kill(); },
  };
}

async function roundTrips(t, size, n) {
  const message = tagged("R", size);
  for (let i = 0; i < 200; i++) {
    await t.send(message);
    await t.receive();
  }
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    await t.send(message);
    await t.receive();
    times[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  times.sort();
  return times[n >> 1];
}

async function oneWay(t, size, n) {
  const message = tagged("T", size);
  const end = tagged("E", 1);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await t.send(message);
  await t.send(end);
  const reply = await t.receive();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const counted = typeof reply === "string" ? Buffer.from(reply, "latin1").readDoubleBE(0) : Buffer.from(reply).readDoubleBE(0);
  if (counted !== n) throw new Error(`${kind}: peer counted ${counted} of ${n}`);
  return n / seconds;
}

const t = await open();
const result = { kind, backend: t.backend ?? null };
result.rt64us = await roundTrips(t, 64, ROUND_TRIPS);
result.msgsPerSec64 = await oneWay(t, 64, SMALL);
result.mbPerSec1M = ((await oneWay(t, 1024 * 1024, LARGE)) * 1024 * 1024) / 1e6;
t.close();
rmSync(address, { force: true });
console.log(JSON.stringify(result));
process.exit(0);
