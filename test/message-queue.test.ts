import { readFile } from "node:fs/promises";
import process from "node:process";
import { afterEach, describe, expect, it } from "vitest";
import { IpcError, MessageQueue, backend, capabilities } from "../dist/index.js";
import { compileC, runProgram } from "./cc.js";
import { decode, priorityOf } from "./fixtures/mq-message.mjs";
import { expectCode, fixturePath, runtimeCommand, spawnFixture, uniqueName } from "./helpers.js";
import { spawn } from "node:child_process";

const made: string[] = [];
const handles: MessageQueue[] = [];
function name(tag: string): string {
  const n = uniqueName(`ipckit-mq-${tag}`).slice(0, 30);
  made.push(n);
  return n;
}
/** A small queue (the per-user budget is shared with every other test run on the machine). */
function small(tag: string, options: { maxMessages?: number; messageSize?: number } = {}): MessageQueue {
  const q = MessageQueue.open(name(tag), { create: true, exclusive: true, maxMessages: 10, messageSize: 256, ...options });
  handles.push(q);
  return q;
}
afterEach(() => {
  for (const h of handles.splice(0)) h.close();
  for (const n of made.splice(0)) {
    try {
      MessageQueue.unlink(n);
    } catch {
      // already unlinked by the test
    }
  }
});

const text = (data: Uint8Array): string => new TextDecoder().decode(data);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("MessageQueue capabilities", () => {
  it("is reported where POSIX queues exist and the native backend runs", () => {
    expect(capabilities.messageQueue).toBe(backend === "native" && process.platform === "linux");
  });
});

describe.runIf(backend === "js")("MessageQueue (js backend)", () => {
  it("throws ERR_IPC_UNSUPPORTED from every entry point", async () => {
    const e = await expectCode(() => MessageQueue.open("ipckit-mq-js", { create: true }), "ERR_IPC_UNSUPPORTED");
    expect(e.message).toContain("Queue");
    await expectCode(() => MessageQueue.unlink("ipckit-mq-js"), "ERR_IPC_UNSUPPORTED");
  });
});

describe.runIf(capabilities.messageQueue)("MessageQueue (native)", () => {
  it("creates, opens by either spelling, reports attributes, unlinks", async () => {
    const q = small("basic", { maxMessages: 5, messageSize: 100 });
    expect(q.name.startsWith("/ipckit-mq-basic")).toBe(true);
    using other = MessageQueue.open(q.name.slice(1));
    expect(q.attributes).toEqual({ maxMessages: 5, messageSize: 100, currentMessages: 0 });
    q.sendSync("x");
    expect(other.attributes.currentMessages).toBe(1);
    await expectCode(() => MessageQueue.open(q.name, { create: true, exclusive: true }), "ERR_IPC_EXISTS");
    await expectCode(() => MessageQueue.open(q.name, { create: true, maxMessages: 6 }), "ERR_IPC_EXISTS");
    using again = MessageQueue.open(q.name, { create: true, maxMessages: 5 });
    expect(again.attributes.currentMessages).toBe(1);
    q.unlink();
    await expectCode(() => MessageQueue.open(q.name), "ERR_IPC_NOT_FOUND");
    await expectCode(() => q.unlink(), "ERR_IPC_NOT_FOUND");
    expect(text(other.receiveSync().data)).toBe("x");
  });

  it("creates queues 0600 by default and applies an explicit mode exactly", () => {
    const peer = compileC("mq-peer.c", ["-lrt"]);
    const a = small("mode1");
    const b = MessageQueue.open(name("mode2"), { create: true, maxMessages: 1, messageSize: 16, mode: 0o640 });
    handles.push(b);
    expect(runProgram(peer, ["posix-mode", a.name]).trim()).toBe("600");
    expect(runProgram(peer, ["posix-mode", b.name]).trim()).toBe("640");
  });

  it("delivers the highest priority first, FIFO within a priority, strings as UTF-8", () => {
    const q = small("prio");
    q.sendSync("low", { priority: 1 });
    q.sendSync(new Uint8Array([1, 2, 3]), { priority: 9 });
    q.sendSync("żółw ✓", { priority: 5 });
    q.sendSync(new DataView(new Uint8Array([7, 8]).buffer), { priority: 5 });
    q.sendSync(new Uint8Array([4, 5]).buffer, { priority: 32767 });
    const plain = (m: { data: Uint8Array; priority: number }) => ({ data: [...m.data], priority: m.priority });
    expect(plain(q.receiveSync())).toEqual({ data: [4, 5], priority: 32767 });
    expect(plain(q.receiveSync())).toEqual({ data: [1, 2, 3], priority: 9 });
    const m = q.tryReceive();
    expect(m !== undefined && text(m.data)).toBe("żółw ✓");
    expect([...(q.tryReceive()?.data ?? [])]).toEqual([7, 8]);
    expect(q.receiveSync({ timeout: 0 }).priority).toBe(1);
    expect(q.tryReceive()).toBeUndefined();
  });

  it("try forms never wait; Sync forms honour timeout", async () => {
    const q = small("try", { maxMessages: 2, messageSize: 16 });
    expect(q.tryReceive()).toBeUndefined();
    expect(q.trySend("a")).toBe(true);
    expect(q.trySend("b")).toBe(true);
    expect(q.trySend("c")).toBe(false);
    let start = Date.now();
    await expectCode(() => q.sendSync("c", { timeout: 50 }), "ERR_IPC_TIMEOUT");
    expect(Date.now() - start).toBeGreaterThanOrEqual(45);
    await expectCode(() => q.send("c", { timeout: 30 }), "ERR_IPC_TIMEOUT");
    expect(q.attributes.currentMessages).toBe(2);
    q.receiveSync();
    q.receiveSync();
    start = Date.now();
    await expectCode(() => q.receiveSync({ timeout: 50 }), "ERR_IPC_TIMEOUT");
    expect(Date.now() - start).toBeGreaterThanOrEqual(45);
  });

  it("keeps the event loop running during a 300 ms pending receive, then times out", async () => {
    const q = small("loop");
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const start = Date.now();
    const e = await expectCode(() => q.receive({ timeout: 300 }), "ERR_IPC_TIMEOUT");
    clearInterval(timer);
    expect(e).toBeInstanceOf(IpcError);
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it("an async receive wakes when another handle sends", async () => {
    const q = small("wake");
    using other = MessageQueue.open(q.name);
    const pending = q.receive();
    await sleep(30);
    other.sendSync("hi", { priority: 3 });
    const m = await pending;
    expect(text(m.data)).toBe("hi");
    expect(m.priority).toBe(3);
  });

  it("an AbortSignal ends a pending receive promptly and consumes nothing", async () => {
    const q = small("abort");
    const ac = new AbortController();
    const pending = q.receive({ signal: ac.signal });
    await sleep(20);
    const start = Date.now();
    ac.abort();
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - start).toBeLessThan(250);
    expect((error as Error).name).toBe("AbortError");
    q.sendSync("kept");
    expect(text(q.receiveSync({ timeout: 1000 }).data)).toBe("kept");
    // A reason given to abort() is what the promise rejects with.
    const ac2 = new AbortController();
    const p2 = q.receive({ signal: ac2.signal });
    ac2.abort(new Error("stop now"));
    await expect(p2).rejects.toThrow("stop now");
    // Already aborted: rejects without touching the queue.
    q.sendSync("still here");
    await expect(q.receive({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    expect(q.attributes.currentMessages).toBe(1);
  });

  it("an AbortSignal ends a pending send on a full queue and sends nothing", async () => {
    const q = small("abortsend", { maxMessages: 1, messageSize: 16 });
    q.sendSync("first");
    const ac = new AbortController();
    const pending = q.send("second", { signal: ac.signal });
    await sleep(20);
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(q.attributes.currentMessages).toBe(1);
    expect(text(q.receiveSync().data)).toBe("first");
    expect(q.tryReceive()).toBeUndefined();
    // And a pending send completes once there is room.
    q.sendSync("a");
    const sent = q.send("b", { priority: 2 });
    await sleep(20);
    expect(text(q.receiveSync().data)).toBe("a");
    await sent;
    expect(q.receiveSync()).toMatchObject({ priority: 2 });
  });

  it("for await yields messages until the handle closes, or until the loop breaks", async () => {
    const q = small("iter");
    using writer = MessageQueue.open(q.name);
    for (let i = 0; i < 3; i++) writer.sendSync(`m${i}`);
    const seen: string[] = [];
    setTimeout(() => writer.sendSync("late"), 30);
    setTimeout(() => q.close(), 120);
    for await (const m of q) seen.push(text(m.data));
    expect(seen).toEqual(["m0", "m1", "m2", "late"]);

    using r = MessageQueue.open(writer.name);
    writer.sendSync("x");
    writer.sendSync("y");
    for await (const m of r) {
      expect(text(m.data)).toBe("x");
      break;
    }
    expect(text(r.receiveSync().data)).toBe("y");
  });

  it("closing a handle ends its pending calls with ERR_IPC_CLOSED; a closed handle refuses use", async () => {
    const q = small("closed");
    const pending = q.receive();
    q.close();
    await expectCode(() => pending, "ERR_IPC_CLOSED");
    q.close();
    await expectCode(() => q.sendSync("x"), "ERR_IPC_CLOSED");
    await expectCode(() => q.trySend("x"), "ERR_IPC_CLOSED");
    await expectCode(() => q.send("x"), "ERR_IPC_CLOSED");
    await expectCode(() => q.receive(), "ERR_IPC_CLOSED");
    await expectCode(() => q.receiveSync(), "ERR_IPC_CLOSED");
    await expectCode(() => q.tryReceive(), "ERR_IPC_CLOSED");
    await expectCode(() => q.attributes, "ERR_IPC_CLOSED");
  });

  it("50 pending receives do not starve fs, dns or crypto work", async () => {
    const q = small("many");
    using writer = MessageQueue.open(q.name);
    const pending = Array.from({ length: 50 }, () => q.receive({ timeout: 20_000 }));
    await sleep(20);
    const start = Date.now();
    const self = await readFile(new URL(import.meta.url));
    const { pbkdf2Sync, pbkdf2 } = await import("node:crypto");
    void pbkdf2Sync;
    await new Promise<void>((resolve, reject) => pbkdf2("x", "y", 1, 16, "sha256", (e) => (e ? reject(e) : resolve())));
    expect(self.length).toBeGreaterThan(0);
    expect(Date.now() - start).toBeLessThan(2000);
    for (let i = 0; i < 50; i++) await writer.send(String(i));
    const got = (await Promise.all(pending)).map((m) => Number(text(m.data)));
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("refuses too-large messages before the syscall, and kernel limits with ERR_IPC_LIMIT", async () => {
    const q = small("limits", { maxMessages: 1, messageSize: 64 });
    await expectCode(() => q.sendSync(new Uint8Array(65)), "ERR_IPC_TOO_LARGE");
    await expectCode(() => q.trySend("x".repeat(65)), "ERR_IPC_TOO_LARGE");
    await expectCode(() => q.send(new Uint8Array(65)), "ERR_IPC_TOO_LARGE");
    expect(q.attributes.currentMessages).toBe(0);
    const tooMany = await expectCode(
      () => MessageQueue.open(name("lim1"), { create: true, maxMessages: 100_000, messageSize: 16 }),
      "ERR_IPC_LIMIT",
    );
    expect(tooMany.message).toContain("fs.mqueue.msg_max");
    expect(tooMany.message).toContain("sysctl");
    const tooBig = await expectCode(
      () => MessageQueue.open(name("lim2"), { create: true, maxMessages: 1, messageSize: 10_000_000 }),
      "ERR_IPC_LIMIT",
    );
    expect(tooBig.message).toContain("fs.mqueue.msgsize_max");
  });

  it("the per-user queue memory limit (RLIMIT_MSGQUEUE) is ERR_IPC_LIMIT naming how to raise it", async () => {
    const n = name("rlimit");
    const [cmd, args] = runtimeCommand(fixturePath("mq-open.mjs"), [n]);
    const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    const child = spawn("bash", ["-c", `ulimit -q 4096 && exec ${quoted}`], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(out).toContain("ERR_IPC_LIMIT");
    expect(out).toContain("RLIMIT_MSGQUEUE");
    expect(out).toContain("ulimit -q");
    expect(code).toBe(0);
  });

  it("a peer killed while blocked in receiveSync or sendSync leaves the queue whole", async () => {
    const q = small("killed", { maxMessages: 1, messageSize: 64 });
    const receiver = spawnFixture("mq-blocked.mjs", ["posix", q.name, "receive"]);
    await receiver.line((l) => l === "blocking");
    await sleep(50);
    receiver.process.kill("SIGKILL");
    await receiver.exited;
    q.sendSync("kept");
    const sender = spawnFixture("mq-blocked.mjs", ["posix", q.name, "send"]);
    await sender.line((l) => l === "blocking");
    await sleep(50);
    sender.process.kill("SIGKILL");
    expect((await sender.exited).signal).toBe("SIGKILL");
    expect(q.attributes.currentMessages).toBe(1);
    expect(text(q.receiveSync({ timeout: 1000 }).data)).toBe("kept");
    expect(q.tryReceive()).toBeUndefined();
  });

  it("refuses bad input with ERR_IPC_INVALID_ARGUMENT", async () => {
    const q = small("bad");
    const bad = "ERR_IPC_INVALID_ARGUMENT";
    for (const n of ["", "/", "a/b", "x".repeat(31), "..", "sp ace", 42, null, undefined, "nul\0"]) {
      await expectCode(() => MessageQueue.open(n as string, { create: true }), bad);
      await expectCode(() => MessageQueue.unlink(n as string), bad);
    }
    for (const p of [-1, 32768, 1.5, "1", NaN, Infinity]) {
      await expectCode(() => q.sendSync("x", { priority: p as number }), bad);
      await expectCode(() => q.trySend("x", { priority: p as number }), bad);
      await expectCode(() => q.send("x", { priority: p as number }), bad);
    }
    for (const d of [42, null, undefined, {}, [1, 2]]) await expectCode(() => q.sendSync(d as string), bad);
    for (const t of [-1, NaN, "5"]) {
      await expectCode(() => q.receiveSync({ timeout: t as number }), bad);
      await expectCode(() => q.receive({ timeout: t as number }), bad);
    }
    await expectCode(() => q.receive({ signal: {} as AbortSignal }), bad);
    await expectCode(() => q.receive(5 as never), bad);
    const opts = [{ maxMessages: 0 }, { maxMessages: 1.5 }, { messageSize: -1 }, { messageSize: 2 ** 40 }, { mode: 0o1000 }, { create: "yes" }];
    for (const o of opts) await expectCode(() => MessageQueue.open(name("badopt"), { create: true, ...(o as object) }), bad);
  });

  it("interoperates with a C program using mq_send / mq_receive, priorities preserved", async () => {
    const peer = compileC("mq-peer.c", ["-lrt"]);
    const q = small("interop");
    runProgram(peer, ["posix-send", q.name, "7"]);
    const fromC = Array.from({ length: 7 }, () => q.receiveSync({ timeout: 1000 }));
    expect(fromC.map((m) => `${m.priority} ${text(m.data)}`)).toEqual([
      "6 c-6",
      "5 c-5",
      "4 c-4",
      "3 c-3",
      "2 c-2",
      "1 c-1",
      "0 c-0",
    ]);
    for (const [i, p] of [3, 9, 0, 9, 1000].entries()) q.sendSync(`js-${i}`, { priority: p });
    q.sendSync("ünï", { priority: 2 });
    expect(runProgram(peer, ["posix-recv", q.name, "6"]).trim().split("\n")).toEqual([
      "1000 js-4",
      "9 js-1",
      "9 js-3",
      "3 js-0",
      "2 ünï",
      "0 js-2",
    ]);
  });

  it("moves 100,000 messages of mixed sizes and priorities between two processes: none lost, none duplicated, order held", async () => {
    const count = 100_000;
    const data = small("xdata", { maxMessages: 10, messageSize: 8192 });
    const ready = small("xready", { maxMessages: 1, messageSize: 8 });
    const ack = small("xack", { maxMessages: 1, messageSize: 8 });
    const child = spawnFixture("mq-xproc.mjs", [data.name, ready.name, ack.name, String(count)]);
    const seen = new Uint8Array(count);
    const lastSeqOfPriority = new Map<number, number>();
    const accept = (m: { data: Uint8Array; priority: number }): number => {
      const { seq, priority } = decode(m.data, 8192);
      if (priority !== m.priority || priority !== priorityOf(seq, 32)) throw new Error(`seq ${seq}: priority ${m.priority}`);
      if (seen[seq] !== 0) throw new Error(`seq ${seq} delivered twice`);
      seen[seq] = 1;
      // Within one priority, the queue is FIFO.
      if ((lastSeqOfPriority.get(priority) ?? -1) > seq) throw new Error(`seq ${seq} overtook an earlier one`);
      lastSeqOfPriority.set(priority, seq);
      return seq;
    };
    const half = count / 2;
    // Phase 1: streaming, async receives (the producer blocks whenever the queue is full).
    for (let i = 0; i < half; i++) accept(await data.receive({ timeout: 30_000 }));
    // Phase 2: rounds of 10 put into an empty queue; each must come out highest priority first.
    for (let round = half; round < count; round += 10) {
      ack.sendSync("a", { timeout: 30_000 });
      await ready.receive({ timeout: 30_000 });
      let previous = Infinity;
      for (let i = 0; i < 10; i++) {
        const m = data.tryReceive();
        if (m === undefined) throw new Error(`round ${round}: only ${i} messages`);
        if (m.priority > previous) throw new Error(`round ${round}: priority ${m.priority} after ${previous}`);
        previous = m.priority;
        const seq = accept(m);
        if (seq < round || seq >= round + 10) throw new Error(`round ${round}: seq ${seq}`);
      }
    }
    const result = await child.exited;
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("produced");
    expect(result.code).toBe(0);
    expect(seen.every((v) => v === 1)).toBe(true);
    expect(data.tryReceive()).toBeUndefined();
  }, 120_000);
});
