/** What the benchmark peers share: payloads, timing and the result line suite.ts reads. */
import process from "node:process";

export interface PeerResult {
  rttUs?: number;
  msgsPerSec?: number;
  mbPerSec?: number;
}

const RTT_BATCH = 500;

export function payload(size: number): Uint8Array {
  return new Uint8Array(size).fill(7);
}

export function smallObject(i: number): { i: number; name: string; ok: boolean; tags: string[] } {
  return { i, name: "sensor-17", ok: true, tags: ["a", "b"] };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function report(result: PeerResult): void {
  console.log(`result ${JSON.stringify(result)}`);
}

export function streamResult(count: number, size: number, startNs: bigint): PeerResult {
  const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
  return { msgsPerSec: (count - 1) / seconds, mbPerSec: ((count - 1) * size) / seconds / 1e6 };
}

/** Measures round trips: median of batch means, in µs. */
export async function measureRtt(count: number, once: () => void | Promise<void>): Promise<number> {
  for (let i = 0; i < Math.min(2000, count); i++) await once();
  const means: number[] = [];
  for (let done = 0; done < count; done += RTT_BATCH) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < RTT_BATCH; i++) await once();
    means.push(Number(process.hrtime.bigint() - t0) / RTT_BATCH / 1000);
  }
  return median(means);
}

export function measureRttSync(count: number, once: () => void): number {
  for (let i = 0; i < Math.min(2000, count); i++) once();
  const means: number[] = [];
  for (let done = 0; done < count; done += RTT_BATCH) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < RTT_BATCH; i++) once();
    means.push(Number(process.hrtime.bigint() - t0) / RTT_BATCH / 1000);
  }
  return median(means);
}
