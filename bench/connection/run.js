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
  for (const c of candidates) {
    const out = execFileSync(process.execPath, [client, ...c.args], { env: { ...process.env, ...c.env }, encoding: "utf8" });
    results.get(c.name).push(JSON.parse(out.trim().split("\n").pop()));
  }
  process.stderr.write(`round ${round}/${rounds} done\n`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const rows = candidates.map((c) => {
  const r = results.get(c.name);
  return { name: c.name, rt: median(r.map((x) => x.rt64us)), msgs: median(r.map((x) => x.msgsPerSec64)), mb: median(r.map((x) => x.mbPerSec1M)) };
});
const base = rows.find((r) => r.name.startsWith("Node net"));
console.log(`| transport | 64 B round trip (median µs) | 64 B one-way msg/s | 1 MiB one-way MB/s |`);
console.log(`|---|---|---|---|`);
for (const r of rows) {
  const ratio = (x, y) => (r === base ? "" : ` (${(x / y).toFixed(2)}x)`);
  console.log(
    `| ${r.name} | ${r.rt.toFixed(1)}${ratio(base.rt, r.rt)} | ${Math.round(r.msgs).toLocaleString("en")}${ratio(r.msgs, base.msgs)} | ${Math.round(r.mb).toLocaleString("en")}${ratio(r.mb, base.mb)} |`,
  );
}
console.log(`\nratios: how many times better than Node net (higher is better; for round trips, baseline time / this time).`);
for (const r of rows.slice(0, 2)) {
  const met = r.rt <= base.rt && r.msgs >= base.msgs && r.mb >= base.mb;
  console.log(`${r.name}: ${met ? "at least as good as Node net on every figure" : "BELOW Node net on at least one figure"}`);
}
