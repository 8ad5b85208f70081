/** Benchmark peer for SysVMessageQueue (Sync forms): one queue, requests type 1, replies type 2. */
import process from "node:process";
import { SysVMessageQueue } from "../sysv-queue.js";
import { measureRttSync, payload, report, streamResult } from "./measure.js";

/** A key derived from the pair's tag, so concurrent runs never share a queue. */
function keyOf(address: string): number {
  let h = 0x2a000000;
  for (const c of address) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return (h & 0x0fffffff) | 0x20000000;
}

export async function sysvQueuePeer(test: string, role: string, address: string, size: number, count: number): Promise<void> {
  const key = keyOf(address);
  if (role === "server") {
    const q = SysVMessageQueue.open(key, { create: true, exclusive: true });
    console.log("ready");
    try {
      if (test === "rtt") {
        for (;;) {
          // No timeout: a timed SysV wait polls, an untimed one blocks in msgrcv as C would.
          const { data } = q.receiveSync({ type: 1 });
          if (data.length === 0) break;
          q.sendSync(data, { type: 2 });
        }
      } else {
        q.receiveSync();
        const start = process.hrtime.bigint();
        for (let got = 1; got < count; got++) q.receiveSync();
        report(streamResult(count, size, start));
      }
    } finally {
      q.remove();
      q.close();
    }
    return;
  }
  const q = SysVMessageQueue.open(key);
  const msg = payload(size);
  if (test === "rtt") {
    const rttUs = measureRttSync(count, () => {
      q.sendSync(msg, { type: 1 });
      q.receiveSync({ type: 2 });
    });
    q.sendSync(new Uint8Array(0), { type: 1 });
    report({ rttUs });
  } else {
    for (let i = 0; i < count; i++) q.sendSync(msg);
  }
  q.close();
}
