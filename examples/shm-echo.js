// The seed's uppercase echo through shared memory: the parent writes text into a segment, a child
// process upper-cases it in place, and the parent reads the answer from the same bytes.
//   node examples/shm-echo.js ["some text"]
// Layout of the segment: int32 state (0 empty, 1 request, 2 reply), int32 length, then UTF-8 bytes.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SharedMemory } from "ipckit";

const STATE = 0;
const LENGTH = 1;
const TEXT = 8;

async function until(ints, state) {
  while (Atomics.load(ints, STATE) !== state) await new Promise((r) => setTimeout(r, 1));
}

if (process.argv[2] === "--child") {
  // The child: open the segment by name, wait for a request, answer in place.
  const shm = SharedMemory.open(process.argv[3]);
  const ints = new Int32Array(shm.buffer, 0, 2);
  await until(ints, 1);
  const bytes = new Uint8Array(shm.buffer, TEXT, Atomics.load(ints, LENGTH));
  const text = new TextDecoder().decode(bytes);
  console.log(`  child  received ${JSON.stringify(text)}`);
  const reply = new TextEncoder().encode(text.toUpperCase());
  new Uint8Array(shm.buffer, TEXT).set(reply);
  Atomics.store(ints, LENGTH, reply.length);
  Atomics.store(ints, STATE, 2);
  shm.close();
} else {
  const text = process.argv[2] ?? "hello from shared memory";
  const name = `ipckit-demo-${process.pid}`;
  const shm = SharedMemory.create(name, { size: 64 * 1024 });
  try {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", name], { stdio: "inherit" });
    const ints = new Int32Array(shm.buffer, 0, 2);
    const request = new TextEncoder().encode(text);
    new Uint8Array(shm.buffer, TEXT).set(request);
    Atomics.store(ints, LENGTH, request.length);
    Atomics.store(ints, STATE, 1);
    console.log(`  parent sent     ${JSON.stringify(text)}`);
    await until(ints, 2);
    const reply = new TextDecoder().decode(new Uint8Array(shm.buffer, TEXT, Atomics.load(ints, LENGTH)));
    console.log(`  parent received ${JSON.stringify(reply)}`);
    await new Promise((resolve) => child.on("exit", resolve));
    if (reply !== text.toUpperCase()) process.exitCode = 1;
  } finally {
    shm.unlink();
    shm.close();
  }
}
