/** Benchmark peer for ipckit's Connection over a Unix socket (framed, bytes codec). */
import process from "node:process";
import { connect, listen } from "../listener.js";
import { measureRtt, payload, report, streamResult } from "./measure.js";

export async function connectionPeer(test: string, role: string, address: string, size: number, count: number): Promise<void> {
  if (role === "server") {
    const listener = await listen(address, { codec: "bytes" });
    console.log("ready");
    const connection = await listener.accept();
    if (test === "rtt") {
      for (;;) {
        const m = (await connection.receive()) as Uint8Array;
        if (m.length === 0) break;
        await connection.send(m);
      }
    } else {
      await connection.receive();
      const start = process.hrtime.bigint();
      for (let got = 1; got < count; got++) await connection.receive();
      report(streamResult(count, size, start));
    }
    connection.close();
    listener.close();
    return;
  }
  const connection = await connect(address, { codec: "bytes" });
  const msg = payload(size);
  if (test === "rtt") {
    const rttUs = await measureRtt(count, async () => {
      await connection.send(msg);
      await connection.receive();
    });
    await connection.send(new Uint8Array(0));
    report({ rttUs });
  } else {
    for (let i = 0; i < count; i++) await connection.send(msg);
  }
  connection.close();
}
