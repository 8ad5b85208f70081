// bench/channel: ipckit Channel and Queue, Node to Node, two processes, against
//   (a) bench/channel/anchor.c — the same ring layout and spin-then-futex protocol in C,
//   (b) Node net over a Unix socket, (c) child_process.fork IPC with json.
// Every placement (pinned to CPUs 0/1, and unpinned) is repeated; every run is reported.
//   npm run build && node bench/channel/run.mjs [--repeats 3] [--json]
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TRANSPORTS, runCase } from "../../dist/bench/suite.js";

const args = process.argv.slice(2);
const repeats = Number(args[args.indexOf("--repeats") + 1] || 3) || 3;
const asJson = args.includes("--json");
const KiB64 = 64;
const MiB = 1 << 20;

const anchorBin = join(tmpdir(), `ipckit-anchor-${process.pid}`);
execFileSync("gcc", ["-O2", "-o", anchorBin, fileURLToPath(new URL("./anchor.c", import.meta.url))]);
const anchor = (mode, size, count, spinUs, pin) =>
  JSON.parse(execFileSync(anchorBin, [mode, String(size), String(count), String(spinUs), pin ? "pin" : "nopin"], { encoding: "utf8" }));

const entry = (peer, objects = false) => TRANSPORTS.find((t) => t.peer === peer && Boolean(t.objects) === objects);
const channel = entry("channel");
const batch = entry("channel-batch");
const queue = entry("queue", true);
const net = entry("net");
const forkIpc = entry("fork");
const forkObjects = entry("fork", true);

async function one(pinned) {
  const pin = pinned ? [0, 1] : undefined;
  const r = {};
  r.anchorRttNs = anchor("rtt", KiB64, 200_000, 50, pinned).rttNs;
  r.anchorFutexRttNs = anchor("rtt", KiB64, 20_000, 0, pinned).rttNs;
  r.anchor64 = anchor("stream", KiB64, 5_000_000, 50, pinned).msgsPerSec;
  r.anchorMiB = anchor("stream", MiB, 3000, 50, pinned).MBps;
  r.channelRttUs = (await runCase(channel, "rtt", KiB64, 200_000, { pin }))?.rttUs;
  r.channelFutexRttUs = (await runCase(channel, "rtt", KiB64, 20_000, { pin, env: { IPCKIT_SPIN_US: "0" } }))?.rttUs;
  r.channelAsyncRttUs = (await runCase(channel, "rtt", KiB64, 20_000, { pin, env: { IPCKIT_BENCH_ASYNC: "1" } }))?.rttUs;
  r.channel64 = (await runCase(channel, "stream", KiB64, 2_000_000, { pin }))?.msgsPerSec;
  r.channelBatch64 = (await runCase(batch, "stream", KiB64, 4_000_000, { pin }))?.msgsPerSec;
  r.channelMiB = (await runCase(channel, "stream", MiB, 3000, { pin }))?.mbPerSec;
  r.queueStructured = (await runCase(queue, "stream", 0, 200_000, { pin }))?.msgsPerSec;
  r.queueMsgpack = (await runCase(queue, "stream", 0, 200_000, { pin, env: { IPCKIT_BENCH_CODEC: "msgpack" } }))?.msgsPerSec;
  r.netRttUs = (await runCase(net, "rtt", KiB64, 20_000, { pin }))?.rttUs;
  r.net64 = (await runCase(net, "stream", KiB64, 500_000, { pin }))?.msgsPerSec;
  r.netMiB = (await runCase(net, "stream", MiB, 1000, { pin }))?.mbPerSec;
  r.forkRttUs = (await runCase(forkIpc, "rtt", KiB64, 20_000, { pin }))?.rttUs;
  r.fork64 = (await runCase(forkIpc, "stream", KiB64, 200_000, { pin }))?.msgsPerSec;
  r.forkObjects = (await runCase(forkObjects, "stream", 0, 200_000, { pin }))?.msgsPerSec;
  return r;
}

const f = (x, d = 0) => (x === undefined ? "-" : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));

function goals(r) {
  const rttRatio = (r.channelRttUs * 1000) / r.anchorRttNs;
  const futexRatio = (r.channelFutexRttUs * 1000) / r.anchorFutexRttNs;
  return [
    [`64 B RTT (spin) ${f(r.channelRttUs, 2)} µs vs anchor ${f(r.anchorRttNs / 1000, 2)} µs = ${f(rttRatio, 2)}x (goal <= 3.5x)`, rttRatio <= 3.5],
    [`64 B RTT (receiver sleeps) ${f(r.channelFutexRttUs, 1)} µs vs anchor ${f(r.anchorFutexRttNs / 1000, 1)} µs = ${f(futexRatio, 2)}x (goal <= 1.2x)`, futexRatio <= 1.2],
    [`64 B unbatched ${f(r.channel64)} msg/s (goal >= 2,000,000)`, r.channel64 >= 2e6],
    [`64 B batched ${f(r.channelBatch64)} msg/s (goal >= 5,000,000)`, r.channelBatch64 >= 5e6],
    [`1 MiB ${f(r.channelMiB)} MB/s vs anchor ${f(r.anchorMiB)} MB/s = ${f((100 * r.channelMiB) / r.anchorMiB)}% (goal >= 55%)`, r.channelMiB >= 0.55 * r.anchorMiB],
    [`Queue small objects ${f(r.queueStructured)} msg/s (structured) vs fork IPC json ${f(r.forkObjects)} = ${f(r.queueStructured / r.forkObjects, 2)}x (goal >= 2x); msgpack codec ${f(r.queueMsgpack)} = ${f(r.queueMsgpack / r.forkObjects, 2)}x`, r.queueStructured >= 2 * r.forkObjects],
  ];
}

const all = [];
for (let i = 0; i < repeats; i++) {
  for (const pinned of [true, false]) {
    const r = { run: i + 1, placement: pinned ? "pinned CPU0/CPU1" : "unpinned", ...(await one(pinned)) };
    all.push(r);
    if (!asJson) {
      console.log(`\n### run ${r.run}, ${r.placement}`);
      console.log("| transport | RTT 64 B | msg/s 64 B | MB/s 1 MiB |\n|---|---:|---:|---:|");
      console.log(`| C anchor (same ring, spin then futex) | ${f(r.anchorRttNs / 1000, 2)} µs (futex only ${f(r.anchorFutexRttNs / 1000, 1)} µs) | ${f(r.anchor64)} | ${f(r.anchorMiB)} |`);
      console.log(`| ipckit Channel (sync) | ${f(r.channelRttUs, 2)} µs (receiver sleeps ${f(r.channelFutexRttUs, 1)} µs; async ${f(r.channelAsyncRttUs, 1)} µs) | ${f(r.channel64)} (sendMany x64: ${f(r.channelBatch64)}) | ${f(r.channelMiB)} |`);
      console.log(`| ipckit Queue, small objects | | ${f(r.queueStructured)} structured, ${f(r.queueMsgpack)} msgpack | |`);
      console.log(`| node net, Unix socket | ${f(r.netRttUs, 1)} µs | ${f(r.net64)} | ${f(r.netMiB)} |`);
      console.log(`| fork IPC json | ${f(r.forkRttUs, 1)} µs | ${f(r.fork64)} (small objects: ${f(r.forkObjects)}) | |`);
      for (const [text, met] of goals(r)) console.log(`- ${met ? "MET" : "NOT MET"}: ${text}`);
    }
  }
}
if (asJson) console.log(JSON.stringify(all, null, 2));
execFileSync("rm", ["-f", anchorBin]);
