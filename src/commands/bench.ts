/** `ipckit bench`: a short comparison of every transport on this machine, with Node's built-in baselines. */
import process from "node:process";
import { backend } from "../backend.js";
import { TRANSPORTS, available, runCase, type PeerResult } from "../bench/suite.js";

const SMALL = 64;
const LARGE = 1 << 20;

function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return "-";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function usage(): string {
  return "usage: ipckit bench [--quick] [--json]\n  RTT: 64 B round trip median; msg/s: 64 B one way (small objects for Queue rows); MB/s: 1 MiB messages";
}

export async function runBench(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage());
    return 0;
  }
  const unknown = args.filter((a) => a !== "--quick" && a !== "--json");
  if (unknown.length > 0) {
    console.error(`ipckit bench: unknown option ${unknown[0]}\n${usage()}`);
    return 2;
  }
  const quick = args.includes("--quick");
  const json = args.includes("--json");
  const scale = quick ? 0.2 : 1;
  const rows: { transport: string; rttUs?: number; msgsPerSec?: number; mbPerSec?: number; note?: string }[] = [];
  for (const entry of TRANSPORTS) {
    if (!available(entry)) {
      rows.push({ transport: entry.label, note: "not available here (see ipckit doctor)" });
      continue;
    }
    // ipckit's shared-memory transports get more messages; under the js backend Queue is a socket round trip per item.
    const fast = entry.feature !== undefined && backend === "native";
    const row: (typeof rows)[number] = { transport: entry.label };
    if (!json) process.stderr.write(`measuring ${entry.label}...\n`);
    const small: PeerResult | undefined = entry.stream
      ? await runCase(entry, "stream", SMALL, Math.round((fast ? 1_000_000 : 200_000) * scale))
      : undefined;
    row.msgsPerSec = small?.msgsPerSec;
    if (entry.rtt) row.rttUs = (await runCase(entry, "rtt", SMALL, Math.round((fast ? 100_000 : 10_000) * scale)))?.rttUs;
    if (entry.large) row.mbPerSec = (await runCase(entry, "stream", LARGE, Math.max(20, Math.round((fast ? 2000 : 500) * scale))))?.mbPerSec;
    rows.push(row);
  }
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  const header = ["transport", "RTT µs (64 B)", "msg/s (64 B)", "MB/s (1 MiB)"];
  const table = rows.map((r) => [r.transport, r.note ?? fmt(r.rttUs, 1), r.note ? "" : fmt(r.msgsPerSec), r.note ? "" : fmt(r.mbPerSec)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const t of table) console.log(line(t));
  console.log("\nTwo processes per row; figures vary run to run on shared machines (repeat to compare).");
  return 0;
}
