// One side of bench/shm: runs the access loop in its own process and prints JSON.
//   loop.mjs plain <passes>          over a plain ArrayBuffer of 1 MiB
//   loop.mjs shm <passes> <name>     over SharedMemory.buffer of the segment <name>
import { SharedMemory } from "../../dist/index.js";

const [kind, passesArg, name] = process.argv.slice(2);
const passes = Number(passesArg);
const SIZE = 1 << 20;

let shm;
const buffer = kind === "shm" ? (shm = SharedMemory.open(name)).buffer : new ArrayBuffer(SIZE);
const words = new Uint32Array(buffer, 0, SIZE / 4);

// Write every word, then read every word back: 2 MiB of traffic per pass.
function pass(p) {
  for (let i = 0; i < words.length; i++) words[i] = (i ^ p) >>> 0;
  let sum = 0;
  for (let i = 0; i < words.length; i++) sum = (sum + words[i]) | 0;
  return sum;
}

for (let p = 0; p < 20; p++) pass(p); // warm up the JIT on this exact loop
const start = process.hrtime.bigint();
let check = 0;
for (let p = 0; p < passes; p++) check ^= pass(p);
const ns = Number(process.hrtime.bigint() - start);
const accesses = passes * words.length * 2;
console.log(JSON.stringify({ kind, passes, ns, nsPerAccess: ns / accesses, gbPerSecond: (accesses * 4) / ns, check, last: words[12345] }));
shm?.close();
