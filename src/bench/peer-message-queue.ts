/** Benchmark peer for POSIX MessageQueue (Sync forms; queues sized within Linux's default limits). */
import process from "node:process";
import { MessageQueue } from "../message-queue.js";
import { measureRttSync, payload, report, streamResult } from "./measure.js";

const ATTRS = { create: true, exclusive: true, maxMessages: 10, messageSize: 8192 } as const;

export async function messageQueuePeer(test: string, role: string, address: string, size: number, count: number): Promise<void> {
  const [a, b] = [`${address}a`, `${address}b`];
  if (role === "server") {
    const rx = MessageQueue.open(a, ATTRS);
    const tx = test === "rtt" ? MessageQueue.open(b, ATTRS) : undefined;
    console.log("ready");
    try {
      if (tx !== undefined) {
        for (;;) {
          const { data } = rx.receiveSync({ timeout: 60_000 });
          if (data.length === 0) break;
          tx.sendSync(data);
        }
      } else {
        rx.receiveSync({ timeout: 60_000 });
        const start = process.hrtime.bigint();
        for (let got = 1; got < count; got++) rx.receiveSync({ timeout: 60_000 });
        report(streamResult(count, size, start));
      }
    } finally {
      for (const q of [rx, tx]) {
        q?.unlink();
        q?.close();
      }
    }
    return;
  }
  const tx = MessageQueue.open(a);
  const msg = payload(size);
  if (test === "rtt") {
    const rx = MessageQueue.open(b);
    const rttUs = measureRttSync(count, () => {
      tx.sendSync(msg);
      rx.receiveSync();
    });
    tx.sendSync(new Uint8Array(0));
    report({ rttUs });
    rx.close();
  } else {
    for (let i = 0; i < count; i++) tx.sendSync(msg);
  }
  tx.close();
}
