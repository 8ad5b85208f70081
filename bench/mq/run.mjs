// bench/mq: messages per second through MessageQueue and SysVMessageQueue between two
// processes (Sync and async forms), against the same transfer by a small C program built here.
//   node bench/mq/run.mjs [--count64 N] [--count8k N] [--rounds N]
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

const outDir = join(here, "..", "out");
mkdirSync(outDir, { recursive: true });
const nativeBin = join(outDir, "mq-native");
execFileSync("cc", ["-O2", "-Wall", "-o", nativeBin, join(here, "native.c"), "-lrt"], { stdio: "inherit" });

function runNative(kind, size) {
  return Number(execFileSync(nativeBin, [kind, String(size), String(counts[size])], { encoding: "utf8" }).trim());
}

async function runIpckit(kind, size, form) {
  const count = counts[size];
  // The POSIX name is unlinked as soon as the first message proves the peer has opened it.
  const queue =
    kind === "posix"
      ? MessageQueue.open(`ipckit-bench-${process.pid}`, { create: true, exclusive: true, maxMessages: 10, messageSize: 8192 })
      : SysVMessageQueue.open(0x49500000 + (process.pid % 0xfffff), { create: true, exclusive: true });
  const target = kind === "posix" ? queue.name : String(queue.key);
  const child = spawn(process.execPath, [join(here, "peer.mjs"), kind, target, String(size), String(count), form], { stdio: "inherit" });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let start = 0;
  for (let i = 0; i < count; i++) {
    const m = form === "sync" ? queue.receiveSync() : await queue.receive();
    if (m.data.length !== size) throw new Error(`got ${m.data.length} bytes`);
    if (i === 0) {
      start = performance.now();
      if (kind === "posix") queue.unlink();
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  const code = await exited;
  if (code !== 0) throw new Error(`peer exited ${code}`);
  if (kind === "sysv") queue.remove();
  queue.close();
  return (count - 1) / elapsed;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const kind of ["posix", "sysv"].filter((k) => only === undefined || k === only)) {
  for (const size of [64, 8192]) {
    const native = [];
    const sync = [];
    const async = [];
    for (let r = 0; r < rounds; r++) {
      // Interleaved, so load from other processes hits all three alike.
      native.push(runNative(kind, size));
      sync.push(await runIpckit(kind, size, "sync"));
      async.push(await runIpckit(kind, size, "async"));
    }
    const row = { kind, size, native: median(native), sync: median(sync), async: median(async) };
    rows.push(row);
    console.log(
      `${kind.padEnd(5)} ${String(size).padStart(5)} B  C ${Math.round(row.native).toLocaleString("en")} msg/s  ` +
        `Sync ${Math.round(row.sync).toLocaleString("en")} (${((100 * row.sync) / row.native).toFixed(0)}%)  ` +
        `async ${Math.round(row.async).toLocaleString("en")} (${((100 * row.async) / row.native).toFixed(0)}%)`,
    );
  }
}
const goal = rows.every((r) => r.sync >= 0.6 * r.native);
console.log(`goal (Sync >= 60% of C in every row): ${goal ? "met" : "NOT met"}`);
