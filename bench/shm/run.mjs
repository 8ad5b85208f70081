// bench/shm: does a SharedMemory mapping cost anything per access?
// Another process runs a write-then-read loop over 1 MiB through SharedMemory.buffer; the baseline is
// the same loop over a plain ArrayBuffer in one process, alternated in the same run (ABAB...).
// The parent then checks that the child's last writes are visible in its own mapping.
//   node bench/shm/run.mjs [rounds=5] [passes=1500]
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SharedMemory } from "../../dist/index.js";

const rounds = Number(process.argv[2] ?? 5);
const passes = Number(process.argv[3] ?? 1500);
const loop = fileURLToPath(new URL("./loop.mjs", import.meta.url));
const name = `ipckit-bench-shm-${process.pid}`;
const shm = SharedMemory.create(name, { size: 1 << 20 });

function run(kind) {
  const out = execFileSync(process.execPath, [loop, kind, String(passes), name], { encoding: "utf8" });
  return JSON.parse(out);
}

const results = { plain: [], shm: [] };
try {
  for (let r = 0; r < rounds; r++) {
    results.plain.push(run("plain"));
    const s = run("shm");
    const seen = new Uint32Array(shm.buffer)[12345];
    if (seen !== s.last) throw new Error(`parent sees ${seen}, child wrote ${s.last}: not shared`);
    results.shm.push(s);
  }
} finally {
  shm.close();
  SharedMemory.unlink(name);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plain = median(results.plain.map((r) => r.nsPerAccess));
const mapped = median(results.shm.map((r) => r.nsPerAccess));
console.log(`bench/shm: ${rounds} rounds x ${passes} passes of write+read over 1 MiB (Uint32), ${process.version}`);
console.log(`  plain ArrayBuffer, one process     ${plain.toFixed(3)} ns/access  ${median(results.plain.map((r) => r.gbPerSecond)).toFixed(2)} GB/s`);
console.log(`  SharedMemory.buffer, child process ${mapped.toFixed(3)} ns/access  ${median(results.shm.map((r) => r.gbPerSecond)).toFixed(2)} GB/s`);
console.log(`  ratio mapping/plain: ${(mapped / plain).toFixed(3)} (1.000 = costs nothing extra per access)`);
console.log(`  every round: plain ${results.plain.map((r) => r.nsPerAccess.toFixed(3)).join(" ")} | shm ${results.shm.map((r) => r.nsPerAccess.toFixed(3)).join(" ")}`);
console.log("  the parent saw the child's last write through its own mapping in every round");
