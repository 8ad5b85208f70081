import { randomInt } from "node:crypto";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { afterEach, describe, expect, it } from "vitest";
import { SysVMessageQueue, backend, capabilities } from "../dist/index.js";
import { compileC, runProgram } from "./cc.js";
import { decode } from "./fixtures/mq-message.mjs";
import { expectCode, spawnFixture } from "./helpers.js";

const handles: SysVMessageQueue[] = [];
const keys: number[] = [];

/** A key no other test uses (random, away from 0 and the small keys people pick by hand). */
function freshKey(): number {
  const key = randomInt(0x1000_0000, 0x7fff_ffff);
  keys.push(key);
  return key;
}
function make(options: { maxBytes?: number; mode?: number } = {}): SysVMessageQueue {
  const q = SysVMessageQueue.open(freshKey(), { create: true, exclusive: true, ...options });
  handles.push(q);
  return q;
}
afterEach(() => {
  for (const h of handles.splice(0)) h.close();
  for (const key of keys.splice(0)) {
    try {
      using q = SysVMessageQueue.open(key);
      q.remove();
    } catch {
      // removed by the test, or never created
    }
  }
});

const text = (data: Uint8Array): string => new TextDecoder().decode(data);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const drain = (q: SysVMessageQueue, type = 0) => {
  const out: string[] = [];
  for (let m = q.tryReceive({ type }); m !== undefined; m = q.tryReceive({ type })) out.push(`${m.type}:${text(m.data)}`);
  return out;
};

/** The permission bits of a queue, from /proc/sysvipc/msg. */
function permsOf(id: number): number {
  const line = readFileSync("/proc/sysvipc/msg", "utf8")
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .find((cols) => cols[1] === String(id));
  if (line === undefined) throw new Error(`queue ${id} not in /proc/sysvipc/msg`);
  return parseInt(line[2] ?? "", 8) & 0o777;
}

describe("SysVMessageQueue capabilities", () => {
  it("is reported where the native backend provides it", () => {
    expect(capabilities.sysvMessageQueue).toBe(backend === "native" && process.platform === "linux");
  });
});

describe.runIf(backend === "js")("SysVMessageQueue (js backend)", () => {
  it("throws ERR_IPC_UNSUPPORTED", async () => {
    const e = await expectCode(() => SysVMessageQueue.open(1234, { create: true }), "ERR_IPC_UNSUPPORTED");
    expect(e.message).toContain("Queue");
    await expectCode(() => SysVMessageQueue.open({ path: "/tmp", projectId: 1 }), "ERR_IPC_UNSUPPORTED");
  });
});

describe.runIf(capabilities.sysvMessageQueue)("SysVMessageQueue (native)", () => {
  it("creates by key, opens again, refuses exclusive re-creation and missing keys", async () => {
    const q = make();
    expect(q.id).toBeGreaterThanOrEqual(0);
    using again = SysVMessageQueue.open(q.key);
    expect(again.id).toBe(q.id);
    using created = SysVMessageQueue.open(q.key, { create: true });
    expect(created.id).toBe(q.id);
    await expectCode(() => SysVMessageQueue.open(q.key, { create: true, exclusive: true }), "ERR_IPC_EXISTS");
    await expectCode(() => SysVMessageQueue.open(freshKey()), "ERR_IPC_NOT_FOUND");
    expect(q.stats).toEqual({ messages: 0, bytes: 0, maxBytes: 16384 });
    // Keys above 2^31 are the same bits as the negative int32 keys C programs use.
    const high = SysVMessageQueue.open(0xfeed0000 + randomInt(0xffff), { create: true, exclusive: true });
    handles.push(high);
    keys.push(high.key);
    using viaNegative = SysVMessageQueue.open(high.key - 2 ** 32);
    expect(viaNegative.id).toBe(high.id);
    expect(high.key).toBeGreaterThan(2 ** 31);
  });

  it("opens by { path, projectId } exactly as ftok does", () => {
    const peer = compileC("mq-peer.c", ["-lrt"]);
    const path = join(tmpdir(), `ipckit-ftok-${process.pid}`);
    writeFileSync(path, "");
    try {
      const q = SysVMessageQueue.open({ path, projectId: 42 }, { create: true, exclusive: true });
      handles.push(q);
      keys.push(q.key);
      expect(q.key).toBe(Number(runProgram(peer, ["ftok", path, "42"]).trim()));
      using same = SysVMessageQueue.open({ path, projectId: 42 });
      expect(same.id).toBe(q.id);
    } finally {
      rmSync(path, { force: true });
    }
  });

  it("creates queues 0600 by default, an explicit mode exactly, and maxBytes", () => {
    const a = make();
    const b = make({ mode: 0o640, maxBytes: 1000 });
    expect(permsOf(a.id)).toBe(0o600);
    expect(permsOf(b.id)).toBe(0o640);
    expect(b.stats.maxBytes).toBe(1000);
  });

  it("selects by type exactly as msgrcv: 0 first, > 0 that type, < 0 lowest type <= |type|", () => {
    const q = make();
    for (const [data, type] of [["a", 3], ["b", 1], ["c", 2], ["d", 1], ["e", 7]] as const) q.sendSync(data, { type });
    expect(q.stats).toMatchObject({ messages: 5, bytes: 5 });
    expect(q.tryReceive({ type: 2 })).toMatchObject({ type: 2 });
    expect(q.tryReceive({ type: 5 })).toBeUndefined();
    const m = q.receiveSync({ type: -3 });
    expect(`${m.type}:${text(m.data)}`).toBe("1:b");
    expect(drain(q)).toEqual(["3:a", "1:d", "7:e"]);
    q.sendSync("z"); // default type 1
    expect(drain(q, -1)).toEqual(["1:z"]);
  });

  it("try forms never wait; Sync forms honour timeout; a full queue waits", async () => {
    const q = make({ maxBytes: 100 });
    expect(q.tryReceive()).toBeUndefined();
    expect(q.trySend(new Uint8Array(60))).toBe(true);
    expect(q.trySend(new Uint8Array(60))).toBe(false);
    let start = Date.now();
    await expectCode(() => q.sendSync(new Uint8Array(60), { timeout: 50 }), "ERR_IPC_TIMEOUT");
    expect(Date.now() - start).toBeGreaterThanOrEqual(45);
    await expectCode(() => q.send(new Uint8Array(60), { timeout: 30 }), "ERR_IPC_TIMEOUT");
    expect(q.stats.messages).toBe(1);
    // A message that can never fit is refused instead of waiting forever.
    await expectCode(() => q.send(new Uint8Array(101)), "ERR_IPC_TOO_LARGE");
    q.receiveSync();
    start = Date.now();
    await expectCode(() => q.receiveSync({ timeout: 50 }), "ERR_IPC_TIMEOUT");
    expect(Date.now() - start).toBeGreaterThanOrEqual(45);
  });

  it("keeps the event loop running during a 300 ms pending receive, then times out", async () => {
    const q = make();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const start = Date.now();
    await expectCode(() => q.receive({ timeout: 300 }), "ERR_IPC_TIMEOUT");
    clearInterval(timer);
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it("an async receive wakes for a message sent by this process or another", async () => {
    const q = make();
    using other = SysVMessageQueue.open(q.key);
    const pending = q.receive({ type: 4 });
    await sleep(30);
    other.sendSync("no", { type: 3 });
    other.sendSync("yes", { type: 4 });
    const m = await pending;
    expect(`${m.type}:${text(m.data)}`).toBe("4:yes");
    const peer = compileC("mq-peer.c", ["-lrt"]);
    const fromC = q.receive({ type: 2, timeout: 5000 });
    await sleep(30);
    runProgram(peer, ["sysv-send", String(q.key), "2"]); // types 1 and 2
    expect(text((await fromC).data)).toBe("c-1");
  });

  it("an AbortSignal ends a pending receive or send promptly and leaves the queue intact", async () => {
    const q = make({ maxBytes: 10 });
    const ac = new AbortController();
    const pending = q.receive({ signal: ac.signal });
    await sleep(20);
    const start = Date.now();
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - start).toBeLessThan(250);
    q.sendSync("0123456789");
    const ac2 = new AbortController();
    const send = q.send("more", { signal: ac2.signal });
    await sleep(20);
    ac2.abort();
    await expect(send).rejects.toMatchObject({ name: "AbortError" });
    expect(q.stats.messages).toBe(1);
    await expect(q.receive({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    expect(drain(q)).toEqual(["1:0123456789"]);
  });

  it("for await yields messages until the handle closes; close ends pending calls", async () => {
    const q = make();
    using writer = SysVMessageQueue.open(q.key);
    writer.sendSync("a", { type: 2 });
    setTimeout(() => writer.sendSync("b"), 30);
    setTimeout(() => q.close(), 150);
    const seen: string[] = [];
    for await (const m of q) seen.push(`${m.type}:${text(m.data)}`);
    expect(seen).toEqual(["2:a", "1:b"]);
    const r = SysVMessageQueue.open(writer.key);
    const pending = r.receive();
    r.close();
    await expectCode(() => pending, "ERR_IPC_CLOSED");
    for (const use of [() => r.sendSync("x"), () => r.trySend("x"), () => r.receiveSync(), () => r.tryReceive(), () => r.stats, () => r.remove()]) {
      await expectCode(use, "ERR_IPC_CLOSED");
    }
    await expectCode(() => r.send("x"), "ERR_IPC_CLOSED");
    await expectCode(() => r.receive(), "ERR_IPC_CLOSED");
  });

  it("remove() deletes the queue for everyone; waiting receivers fail", async () => {
    const q = make();
    using other = SysVMessageQueue.open(q.key);
    const pending = other.receive();
    await sleep(20);
    q.remove();
    await expectCode(() => pending, "ERR_IPC_NOT_FOUND");
    await expectCode(() => q.sendSync("x"), "ERR_IPC_NOT_FOUND");
    await expectCode(() => other.stats, "ERR_IPC_NOT_FOUND");
    await expectCode(() => SysVMessageQueue.open(q.key), "ERR_IPC_NOT_FOUND");
  });

  it("a peer killed while blocked in receiveSync or sendSync leaves the queue whole", async () => {
    const q = make({ maxBytes: 16 }); // "kept" + "from the dead" do not fit together
    const receiver = spawnFixture("mq-blocked.mjs", ["sysv", String(q.key), "receive"]);
    await receiver.line((l) => l === "blocking");
    await sleep(50);
    receiver.process.kill("SIGKILL");
    await receiver.exited;
    q.sendSync("kept");
    const sender = spawnFixture("mq-blocked.mjs", ["sysv", String(q.key), "send"]);
    await sender.line((l) => l === "blocking");
    await sleep(50);
    sender.process.kill("SIGKILL");
    const result = await sender.exited;
    expect(result.signal).toBe("SIGKILL");
    expect(drain(q)).toEqual(["1:kept"]);
  });

  it("50 pending receives do not starve fs, dns or crypto work", async () => {
    const q = make();
    const pending = Array.from({ length: 50 }, () => q.receive({ timeout: 20_000 }));
    await sleep(20);
    const start = Date.now();
    const self = await readFile(new URL(import.meta.url));
    expect(self.length).toBeGreaterThan(0);
    expect(Date.now() - start).toBeLessThan(2000);
    using writer = SysVMessageQueue.open(q.key);
    for (let i = 0; i < 50; i++) await writer.send(String(i));
    const got = (await Promise.all(pending)).map((m) => Number(text(m.data)));
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("refuses bad input, too-large messages and limits with the right codes", async () => {
    const q = make();
    const bad = "ERR_IPC_INVALID_ARGUMENT";
    for (const key of [1.5, -(2 ** 31) - 1, 2 ** 32, NaN, Infinity, "12", null, [], { path: "/tmp" }, { path: "", projectId: 1 }]) {
      await expectCode(() => SysVMessageQueue.open(key as number, { create: true }), bad);
    }
    for (const projectId of [0, 256, 1.5, -1]) await expectCode(() => SysVMessageQueue.open({ path: "/tmp", projectId }), bad);
    await expectCode(() => SysVMessageQueue.open({ path: "/nonexistent/ipckit", projectId: 1 }), "ERR_IPC_NOT_FOUND");
    await expectCode(() => SysVMessageQueue.open(0), bad); // IPC_PRIVATE needs create
    for (const type of [0, -1, 1.5, NaN, "1", 2 ** 53]) {
      await expectCode(() => q.sendSync("x", { type: type as number }), bad);
      await expectCode(() => q.trySend("x", { type: type as number }), bad);
      await expectCode(() => q.send("x", { type: type as number }), bad);
    }
    for (const type of [1.5, NaN, "0"]) await expectCode(() => q.tryReceive({ type: type as number }), bad);
    for (const o of [{ maxBytes: 0 }, { maxBytes: 1.5 }, { mode: -1 }, { mode: 0o1000 }, { exclusive: 1 }]) {
      await expectCode(() => SysVMessageQueue.open(freshKey(), { create: true, ...(o as object) }), bad);
    }
    const max = Number(readFileSync("/proc/sys/kernel/msgmax", "utf8"));
    await expectCode(() => q.sendSync(new Uint8Array(max + 1)), "ERR_IPC_TOO_LARGE");
    await expectCode(() => q.send(new Uint8Array(max + 1)), "ERR_IPC_TOO_LARGE");
    expect(q.stats.messages).toBe(0);
    const mnb = Number(readFileSync("/proc/sys/kernel/msgmnb", "utf8"));
    const limit = await expectCode(() => SysVMessageQueue.open(freshKey(), { create: true, maxBytes: mnb + 1 }), "ERR_IPC_LIMIT");
    expect(limit.message).toContain("kernel.msgmnb");
    expect(limit.message).toContain("sysctl");
  });

  it("interoperates with a C program using msgsnd / msgrcv, types preserved", () => {
    const peer = compileC("mq-peer.c", ["-lrt"]);
    const q = make();
    runProgram(peer, ["sysv-send", String(q.key), "6"]);
    expect(drain(q, 2)).toEqual(["2:c-1", "2:c-4"]);
    expect(drain(q)).toEqual(["1:c-0", "3:c-2", "1:c-3", "3:c-5"]);
    q.sendSync("t5", { type: 5 });
    q.sendSync("t2", { type: 2 });
    q.sendSync("ünï", { type: 9 });
    expect(runProgram(peer, ["sysv-recv", String(q.key), "1", "-4"]).trim()).toBe("2 t2");
    expect(runProgram(peer, ["sysv-recv", String(q.key), "2", "0"]).trim().split("\n")).toEqual(["5 t5", "9 ünï"]);
  });

  it("moves messages between two processes with types, sizes and checksums intact", async () => {
    const q = make();
    const count = 100_000;
    const child = spawnFixture("sysv-xproc.mjs", [String(q.key), String(count), "sync"]);
    const lastOfType = new Map<number, number>();
    const seen = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      // Alternate the three forms on the receiving side.
      const m = i % 3 === 0 ? await q.receive({ timeout: 30_000 }) : i % 3 === 1 ? q.receiveSync({ timeout: 30_000 }) : (q.tryReceive() ?? q.receiveSync({ timeout: 30_000 }));
      const { seq, priority: type } = decode(m.data, 2048);
      if (type !== m.type || type !== 1 + (seq % 5)) throw new Error(`seq ${seq}: type ${m.type}`);
      if (seen[seq] !== 0) throw new Error(`seq ${seq} twice`);
      seen[seq] = 1;
      if ((lastOfType.get(type) ?? -1) > seq) throw new Error(`seq ${seq} out of order`);
      lastOfType.set(type, seq);
    }
    const result = await child.exited;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(seen.every((v) => v === 1)).toBe(true);
  }, 120_000);
});
