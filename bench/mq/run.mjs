// bench/mq: messages per second through MessageQueue and SysVMessageQueue between two
// processes (Sync and async forms), against the same transfer by a small C program built here.
//   node bench/mq/run.mjs [--count64 N] [--count8k N] [--rounds N] [--only posix|sysv] [--forms sync|async|both]
// Each round runs C, Sync and async back to back; a row reports the median over rounds of the
// per-round ratio to C (so slow phases of a loaded machine cancel out) and the median msg/s.
// Needs `npm run build` (release) first and `cc` on PATH.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { MessageQueue, SysVMessageQueue } from "../../dist/index.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const args = process.argv.slice(2);
const option = (flag, fallback) => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const counts = { 64: option("--count64", 200_000), 8192: option("--count8k", 50_000) };
const rounds = option("--rounds", 3);
// --only posix|sysv limits the run to one class.
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const formsArg = args.includes("--forms") ? args[args.indexOf("--forms") + 1] : "both";
const forms = formsArg === "both" ? ["sync", "async"] : [formsArg];

const outDir = join(here, "..", "out");
mkdirSync(outDir, { recursive: true });
const nativeBin = join(outDir, "mq-native");
execFileSync("cc", ["-O2", "-Wall", "-o", nativeBin, join(here, "native.c"), "-lrt"], { stdio: "inherit" });

function runNative(kind, size) {
  const [rate, cpuPerMessage] = execFileSync(nativeBin, [kind, String(size), String(counts[size])], { encoding: "utf8" })
    .trim()
    .split(" ")
    .map(Number);
  return { rate, cpu: cpuPerMessage };
}

async function runIpckit(kind, size, form) {
  const count = counts[size];
  // The POSIX name is unlinked as soon as the first message proves the peer has opened it.
  const queue =
    kind === "posix"
      ? MessageQueue.open(`ipckit-bench-${process.pid}`, { create: true, exclusive: true, maxMessages: 10, messageSize: 8192 })
      : SysVMessageQueue.open(0x49500000 + (process.pid % 0xfffff), { create: true, exclusive: true });
  const target = kind === "posix" ? queue.name : String(queue.key);
  const child = spawn(process.execPath, [join(here, "peer.mjs"), kind, target, String(size), String(count), form], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let peerOut = "";
  child.stdout.on("data", (chunk) => (peerOut += chunk));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let start = 0;
  let checksum = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const m = form === "sync" ? queue.receiveSync() : await queue.receive();
    if (m.data.length !== size) throw new Error(`got ${m.data.length} bytes`);
    // The same work as the C receiver: read the priority / type.
    checksum += kind === "posix" ? m.priority : m.type;
    if (i === 0) {
      start = performance.now();
      if (kind === "posix") queue.unlink();
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu0);
  if (checksum < 0) throw new Error("unreachable");
  const code = await exited;
  if (code !== 0) throw new Error(`peer exited ${code}`);
  if (kind === "sysv") queue.remove();
  queue.close();
  return { rate: (count - 1) / elapsed, cpu: (used.user + used.system + Number(peerOut.trim())) / count };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString("en");
const pct = (r) => `${(100 * r).toFixed(0)}%`;
const rows = [];
for (const kind of ["posix", "sysv"].filter((k) => only === undefined || k === only)) {
  for (const size of [64, 8192]) {
    const native = { rate: [], cpu: [] };
    const per = Object.fromEntries(forms.map((f) => [f, { rate: [], ratio: [], cpu: [], cpuRatio: [] }]));
    for (let r = 0; r < rounds; r++) {
      // Interleaved, so load from other processes hits all of them alike.
      const c = runNative(kind, size);
      native.rate.push(c.rate);
      native.cpu.push(c.cpu);
      for (const form of forms) {
        const js = await runIpckit(kind, size, form);
        per[form].rate.push(js.rate);
        per[form].ratio.push(js.rate / c.rate);
        per[form].cpu.push(js.cpu);
        per[form].cpuRatio.push(c.cpu / js.cpu);
      }
    }
    const row = { kind, size, native: median(native.rate), nativeCpu: median(native.cpu) };
    let line = `${kind.padEnd(5)} ${String(size).padStart(5)} B  C ${fmt(row.native)} msg/s ${row.nativeCpu.toFixed(2)} us CPU/msg`;
    for (const form of forms) {
      const p = per[form];
      Object.assign(row, { [form]: median(p.rate), [`${form}Ratio`]: median(p.ratio), [`${form}Cpu`]: median(p.cpu), [`${form}CpuRatio`]: median(p.cpuRatio) });
      line +=
        `\n    ${form.padEnd(5)} ${fmt(row[form])} msg/s = ${pct(row[`${form}Ratio`])} of C (rounds ${p.ratio.map(pct).join(" ")}); ` +
        `${row[`${form}Cpu`].toFixed(2)} us CPU/msg, C needs ${pct(row[`${form}CpuRatio`])} of it`;
    }
    rows.push(row);
    console.log(line);
  }
}
if (forms.includes("sync")) {
  const goal = rows.every((r) => r.syncRatio >= 0.6);
  console.log(`goal (Sync >= 60% of C in every row, median of per-round ratios): ${goal ? "met" : "NOT met"}`);
}
