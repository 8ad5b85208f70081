// Connection benchmark: ipckit Connection (native and JS backends) against Node `net` with the
// same framing and against child_process.fork IPC, all in one run, in alternating rounds so
// load on the machine hits every candidate alike. Figures are medians over the rounds.
//   node bench/connection/run.js [rounds]      (env RT, SMALL, LARGE set the message counts)
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const rounds = Number(process.argv[2] ?? 5);
const client = fileURLToPath(new URL("./client.js", import.meta.url));
const candidates = [
  { name: "ipckit Connection, native backend", args: ["ipckit"], env: { IPCKIT_BACKEND: "native" } },
  { name: "ipckit Connection, js backend", args: ["ipckit"], env: { IPCKIT_BACKEND: "js" } },
  { name: "Node net, same framing (baseline)", args: ["net"], env: {} },
  { name: "child_process.fork IPC (json)", args: ["fork"], env: { FORK_SERIALIZATION: "json" } },
  { name: "child_process.fork IPC (advanced)", args: ["fork"], env: { FORK_SERIALIZATION: "advanced" } },
];

const results = new Map(candidates.map((c) => [c.name, []]));
for (let round = 1; round <= rounds; round++) {
  // A fresh order each round, so no candidate always runs after the same neighbour.
  const order = [...candidates].sort(() => Math.random() - 0.5);
  for (const c of order) {
    const out = execFileSync(process.execPath, [client, ...c.args], { env: { ...process.env, ...c.env }, encoding: "utf8" });
    results.get(c.name).push(JSON.parse(out.trim().split("\n").pop()));
  }
  process.stderr.write(`round ${round}/${rounds} done\n`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const best = (xs, lower) => (lower ? Math.min(...xs) : Math.max(...xs));
const rows = candidates.map((c) => {
  const r = results.get(c.name);
  const rts = r.map((x) => x.rt64us);
  const msgs = r.map((x) => x.msgsPerSec64);
  const mbs = r.map((x) => x.mbPerSec1M);
  return {
    name: c.name,
    rt: median(rts),
    msgs: median(msgs),
    mb: median(mbs),
    bestRt: best(rts, true),
    bestMsgs: best(msgs, false),
    bestMb: best(mbs, false),
  };
});
const base = rows.find((r) => r.name.startsWith("Node net"));
const fmt = (n) => Math.round(n).toLocaleString("en");
const ratio = (r, x, y) => (r === base ? "" : ` (${(x / y).toFixed(2)}x)`);
for (const [title, pick] of [
  ["median of the rounds", (r) => [r.rt, r.msgs, r.mb]],
  ["best round of each", (r) => [r.bestRt, r.bestMsgs, r.bestMb]],
]) {
  const [brt, bmsgs, bmb] = pick(base);
  console.log(`\n${title} (${rounds} rounds):\n`);
  console.log(`| transport | 64 B round trip (µs) | 64 B one-way msg/s | 1 MiB one-way MB/s |`);
  console.log(`|---|---|---|---|`);
  for (const r of rows) {
    const [rt, msgs, mb] = pick(r);
    console.log(`| ${r.name} | ${rt.toFixed(1)}${ratio(r, brt, rt)} | ${fmt(msgs)}${ratio(r, msgs, bmsgs)} | ${fmt(mb)}${ratio(r, mb, bmb)} |`);
  }
  for (const r of rows.slice(0, 2)) {
    const [rt, msgs, mb] = pick(r);
    const verdicts = [rt <= brt ? "round trip met" : "round trip NOT met", msgs >= bmsgs ? "msg/s met" : "msg/s NOT met", mb >= bmb ? "MB/s met" : "MB/s NOT met"];
    console.log(`- ${r.name}: ${verdicts.join(", ")}`);
  }
}
// Paired: each round's figure against the baseline measured in that same round, then the
// median of those ratios. Load on a shared machine drifts over minutes; this cancels most of it.
const baseRuns = results.get(base.name);
console.log(`\nmedian of per-round ratios against Node net in the same round (${rounds} rounds; > 1 is better):\n`);
console.log(`| transport | 64 B round trip | 64 B msg/s | 1 MiB MB/s |`);
console.log(`|---|---|---|---|`);
for (const r of rows) {
  if (r === base) continue;
  const runs = results.get(r.name);
  const rt = median(runs.map((x, i) => baseRuns[i].rt64us / x.rt64us));
  const msgs = median(runs.map((x, i) => x.msgsPerSec64 / baseRuns[i].msgsPerSec64));
  const mb = median(runs.map((x, i) => x.mbPerSec1M / baseRuns[i].mbPerSec1M));
  console.log(`| ${r.name} | ${rt.toFixed(2)}x | ${msgs.toFixed(2)}x | ${mb.toFixed(2)}x |`);
}
console.log(`\nratios are against Node net (higher is better; for round trips, baseline time / this time).`);
