/**
 * Runs benchmark pairs (two processes each, see peer.ts) and returns their figures. Shared by
 * `ipckit bench` (short runs) and bench/channel/run.mjs (long runs with pinning and the C anchor).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { capabilities, type Feature } from "../backend.js";
import type { PeerResult } from "./peer.js";

export type { PeerResult } from "./peer.js";

/** One row of the table: a transport and how to drive it. Adding a transport is one entry here. */
export interface TransportEntry {
  label: string;
  /** peer.ts transport name. */
  peer: string;
  /** Needs this ipckit feature (omitted: a Node built-in baseline). */
  feature?: Feature;
  rtt: boolean;
  stream: boolean;
  /** Sends small JS objects instead of bytes (Queue and its fork-IPC comparison). */
  objects?: boolean;
  /** Can carry 1 MiB messages. */
  large: boolean;
}

export const TRANSPORTS: readonly TransportEntry[] = [
  { label: "ipckit Channel", peer: "channel", feature: "channel", rtt: true, stream: true, large: true },
  { label: "ipckit Channel, sendMany x64", peer: "channel-batch", feature: "channel", rtt: false, stream: true, large: false },
  { label: "ipckit Queue, small objects", peer: "queue", feature: "queue", rtt: false, stream: true, objects: true, large: false },
  { label: "node net, Unix socket (baseline)", peer: "net", rtt: true, stream: true, large: true },
  { label: "child_process.fork IPC json (baseline)", peer: "fork", rtt: true, stream: true, large: true },
  { label: "fork IPC json, small objects (baseline)", peer: "fork", rtt: false, stream: true, objects: true, large: false },
];

export interface CaseOptions {
  /** CPUs for the two processes (taskset), or undefined to let the kernel place them. */
  pin?: [number, number];
  env?: Record<string, string>;
  timeoutMs?: number;
}

const PEER = fileURLToPath(new URL("./peer.js", import.meta.url));

function runtimeArgs(): string[] {
  return (process.versions as Record<string, string | undefined>).deno !== undefined ? ["run", "-A"] : [];
}

function command(cpu: number | undefined, args: string[]): [string, string[]] {
  const base = [...runtimeArgs(), PEER, ...args];
  return cpu === undefined ? [process.execPath, base] : ["taskset", ["-c", String(cpu), process.execPath, ...base]];
}

interface Proc {
  ready: Promise<void>;
  result: Promise<PeerResult | undefined>;
  exited: Promise<number | null>;
  kill(): void;
}

function start(cpu: number | undefined, args: string[], env: Record<string, string>): Proc {
  const [cmd, argv] = command(cpu, args);
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  let err = "";
  let readyResolve!: () => void;
  let resultResolve!: (r: PeerResult | undefined) => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const result = new Promise<PeerResult | undefined>((r) => (resultResolve = r));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    let nl: number;
    while ((nl = out.indexOf("\n")) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line === "ready") readyResolve();
      else if (line.startsWith("result ")) resultResolve(JSON.parse(line.slice(7)) as PeerResult);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      readyResolve();
      resultResolve(undefined);
      if (code !== 0 && err !== "") process.stderr.write(`bench peer ${args.join(" ")} failed: ${err}\n`);
      resolve(code);
    }),
  );
  return { ready, result, exited, kill: () => child.kill("SIGKILL") };
}

/** Runs one measurement: `test` over `entry` with messages of `size` bytes, `count` times. */
export async function runCase(entry: TransportEntry, test: "rtt" | "stream", size: number, count: number, options: CaseOptions = {}): Promise<PeerResult | undefined> {
  const tag = `ipckit-b${process.pid}-${randomBytes(3).toString("hex")}`;
  const env = { ...options.env };
  const [cpuA, cpuB] = options.pin ?? [undefined, undefined];
  const extra = entry.objects ? "objects" : "bytes";
  let address: string;
  switch (entry.peer) {
    case "net":
      address = join(tmpdir(), `${tag}.sock`);
      break;
    case "channel":
    case "channel-batch":
      address = test === "rtt" ? `${tag}a,${tag}b` : tag;
      break;
    default:
      address = tag;
  }
  const args = (role: string) => [entry.peer, test, role, address, String(size), String(count), extra];
  const procs: Proc[] = [];
  const timer = setTimeout(() => procs.forEach((p) => p.kill()), options.timeoutMs ?? 120_000);
  try {
    if (entry.peer === "fork") {
      if (cpuB !== undefined) env.IPCKIT_BENCH_PIN_CHILD = String(cpuB);
      const client = start(cpuA, args("client"), env);
      procs.push(client);
      const result = await client.result;
      await client.exited;
      return result;
    }
    const server = start(cpuB, args("server"), env);
    procs.push(server);
    await server.ready;
    const client = start(cpuA, args("client"), env);
    procs.push(client);
    const result = await Promise.race([test === "rtt" ? client.result : server.result, server.exited.then(() => undefined)]);
    const final = result ?? (await (test === "rtt" ? client.result : server.result));
    await Promise.all(procs.map((p) => p.exited));
    return final;
  } finally {
    clearTimeout(timer);
    if (entry.peer === "net") rmSync(address, { force: true });
  }
}

export function available(entry: TransportEntry): boolean {
  return entry.feature === undefined || capabilities[entry.feature];
}
