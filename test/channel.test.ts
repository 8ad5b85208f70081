import { readFileSync, rmSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { Channel, SharedMemory, backend, capabilities } from "../dist/index.js";
import { expectCode, fixturePath, runtime, spawnFixture, uniqueName } from "./helpers.js";

const made: string[] = [];
function name(tag: string): string {
  const n = uniqueName(`ipckit-ch-${tag}`).slice(0, 30);
  made.push(n);
  return n;
}
afterEach(() => {
  for (const n of made.splice(0)) rmSync(`/dev/shm/${n}`, { force: true });
});

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe.runIf(backend === "native")("Channel (native)", () => {
  it("sends and receives bytes and strings in order, with every form", async () => {
    const n = name("basic");
    using tx = Channel.create(n, { capacity: 1000 });
    using rx = Channel.open(n);
    expect(tx.capacity).toBe(1024);
    expect(rx.maxMessageBytes).toBe(1020);
    expect(rx.tryReceive()).toBeUndefined();
    tx.sendSync("one");
    expect(tx.trySend(new Uint16Array([0x4241]))).toBe(true);
    await tx.send(Buffer.from("three"));
    tx.sendManySync(["4", "5"]);
    await tx.sendMany([new ArrayBuffer(3), new Uint8Array(0)]);
    expect(rx.pending).toBe(7);
    expect(text(rx.receiveSync())).toBe("one");
    expect(text(rx.tryReceive()!)).toBe("AB");
    expect(text(await rx.receive())).toBe("three");
    expect(rx.receiveManySync(2).map(text)).toEqual(["4", "5"]);
    expect((await rx.receiveMany(10)).map((m) => m.length)).toEqual([3, 0]);
    expect(rx.tryReceiveMany(5)).toEqual([]);
  });

  it("receives into a caller's buffer without allocating; too small a buffer leaves the message queued", async () => {
    const n = name("into");
    using ch = Channel.create(n, { capacity: 256 });
    const buf = new Uint8Array(16);
    expect(ch.tryReceiveInto(buf)).toBeUndefined();
    ch.sendSync("hello");
    const got = ch.receiveIntoSync(buf);
    expect(got.buffer).toBe(buf.buffer);
    expect(text(got)).toBe("hello");
    ch.sendSync(new Uint8Array(40).fill(1));
    await expectCode(() => ch.tryReceiveInto(buf), "ERR_IPC_TOO_LARGE");
    expect((await ch.receiveInto(new ArrayBuffer(64))).length).toBe(40);
    setTimeout(() => ch.sendSync("later"), 20);
    expect(text(await ch.receiveInto(buf, { timeout: 5000 }))).toBe("later");
    await expectCode(() => ch.receiveIntoSync("x" as never), "ERR_IPC_INVALID_ARGUMENT");
  });

  it("wraps around the ring with messages of every size and keeps them whole", () => {
    const n = name("wrap");
    using ch = Channel.create(n, { capacity: 256 });
    const expected: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      const len = (i * 37) % 120;
      const m = new Uint8Array(len).map((_, j) => (i + j) & 255);
      ch.sendSync(m, { timeout: 1000 });
      expected.push(m);
      if (i % 2 === 1) {
        for (const got of ch.receiveManySync(2, { timeout: 1000 })) expect(got).toEqual(expected.shift());
      }
    }
    expect(expected).toEqual([]);
    ch.sendSync(new Uint8Array(252).fill(9));
    expect(ch.receiveSync()).toEqual(new Uint8Array(252).fill(9));
  });

  it("trySend and trySendMany report a full ring; a message larger than the capacity is ERR_IPC_TOO_LARGE", async () => {
    const n = name("full");
    using ch = Channel.create(n, { capacity: 64 });
    expect(ch.trySendMany([new Uint8Array(20), new Uint8Array(20), new Uint8Array(20)])).toBe(2);
    expect(ch.trySend(new Uint8Array(20))).toBe(false);
    expect(ch.trySend(new Uint8Array(12))).toBe(true);
    await expectCode(() => ch.sendSync(new Uint8Array(61)), "ERR_IPC_TOO_LARGE");
    await expectCode(() => ch.send(new Uint8Array(1 << 20)), "ERR_IPC_TOO_LARGE");
    await expectCode(() => ch.sendSync(new Uint8Array(4), { timeout: 20 }), "ERR_IPC_TIMEOUT");
    await expectCode(() => ch.send(new Uint8Array(4), { timeout: 20 }), "ERR_IPC_TIMEOUT");
    const later = ch.send(new Uint8Array(16), { timeout: 5000 });
    setTimeout(() => ch.tryReceive(), 30);
    await later;
  });

  it("times out, aborts with the signal's reason, and close ends a pending receive", async () => {
    const n = name("abort");
    using ch = Channel.create(n, { capacity: 1024 });
    await expectCode(() => ch.receiveSync({ timeout: 20 }), "ERR_IPC_TIMEOUT");
    await expectCode(() => ch.receive({ timeout: 20 }), "ERR_IPC_TIMEOUT");
    const ac = new AbortController();
    const started = Date.now();
    const pending = ch.receive({ signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(2000);
    const reason = new Error("mine");
    await expect(ch.receive({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    // Still intact after the abort.
    ch.sendSync("x");
    expect(text(await ch.receive())).toBe("x");
    const other = Channel.open(n);
    const waiting = other.receive();
    setTimeout(() => other.close(), 20);
    await expectCode(() => waiting, "ERR_IPC_CLOSED");
  });

  it("async waits leave the event loop free", async () => {
    const n = name("loop");
    using ch = Channel.create(n, { capacity: 1024 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const got = ch.receive({ timeout: 2000 });
    setTimeout(() => ch.sendSync("late"), 150);
    expect(text(await got)).toBe("late");
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
  });

  it("refuses bad input and closed handles", async () => {
    const n = name("bad");
    const ch = Channel.create(n, { capacity: 1024 });
    await expectCode(() => Channel.create(n), "ERR_IPC_EXISTS");
    await expectCode(() => Channel.create("bad/name"), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Channel.create(name("neg"), { capacity: -1 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Channel.create(name("frac"), { capacity: 1.5 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Channel.create(name("huge"), { capacity: 2 ** 31 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Channel.open(name("missing")), "ERR_IPC_NOT_FOUND");
    await expectCode(() => ch.sendSync(42 as never), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => ch.sendMany("x" as never), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => ch.receiveMany(0), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => ch.receive({ timeout: -1 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => ch.receive({ signal: "no" as never }), "ERR_IPC_INVALID_ARGUMENT");
    ch.close();
    ch.close();
    await expectCode(() => ch.sendSync("x"), "ERR_IPC_CLOSED");
    await expectCode(() => ch.receive(), "ERR_IPC_CLOSED");
    Channel.unlink(n);
    await expectCode(() => Channel.unlink(n), "ERR_IPC_NOT_FOUND");
  });

  it("refuses a segment that is not a channel, or whose header is corrupt or from another version", async () => {
    const plain = name("plain");
    using shm = SharedMemory.create(plain, { size: 4096 });
    await expectCode(() => Channel.open(plain), "ERR_IPC_INVALID_ARGUMENT");
    const n = name("corrupt");
    using ch = Channel.create(n, { capacity: 1024 });
    using raw = SharedMemory.open(n);
    const words = new Int32Array(raw.buffer);
    words[1] = 99; // layout version
    const e = await expectCode(() => Channel.open(n), "ERR_IPC_INVALID_ARGUMENT");
    expect(e.message).toMatch(/version 99/);
    words[1] = 1;
    words[2] = 4096; // capacity disagrees with the segment
    await expectCode(() => Channel.open(n), "ERR_IPC_INVALID_ARGUMENT");
    words[2] = 1024;
    words[16] = 4000; // tail beyond head + capacity
    await expectCode(() => Channel.open(n), "ERR_IPC_PROTOCOL");
    await expectCode(() => ch.receiveSync(), "ERR_IPC_PROTOCOL");
    words[16] = 8;
    words[128] = 5000; // a record length larger than what is committed
    await expectCode(() => ch.receiveSync(), "ERR_IPC_PROTOCOL");
    expect(shm.size).toBe(4096);
  });

  it("carries messages between two processes both ways", async () => {
    const a = name("xa");
    const b = name("xb");
    using tx = Channel.create(a, { capacity: 4096 });
    using rx = Channel.create(b, { capacity: 4096 });
    const child = spawnFixture("channel-peer.mjs", ["echo", a, b]);
    await child.line((l) => l === "ready");
    for (let i = 0; i < 500; i++) {
      const m = new Uint8Array(1 + (i % 300)).fill(i & 255);
      if (i % 2 === 0) await tx.send(m);
      else tx.sendSync(m);
      const back = i % 2 === 0 ? await rx.receive({ timeout: 10_000 }) : rx.receiveSync({ timeout: 10_000 });
      expect(back).toEqual(m);
    }
    tx.sendSync(new Uint8Array(0));
    expect((await child.exited).code).toBe(0);
  });

  it("many senders in other processes: every message once, in order per sender", async () => {
    const n = name("mpsc");
    using rx = Channel.create(n, { capacity: 512 });
    const kids = [0, 1, 2].map(() => spawnFixture("channel-peer.mjs", ["send", n, "300"]));
    const seen = new Map<number, number>();
    for (let i = 0; i < 900; i++) {
      const m = text(await rx.receive({ timeout: 20_000 }));
      const k = Number(m.split(" ")[1]);
      expect(m.startsWith("msg ")).toBe(true);
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    for (const k of kids) expect((await k.exited).code).toBe(0);
    expect([...seen.values()].every((c) => c === 3)).toBe(true);
    expect(seen.size).toBe(300);
    expect(rx.tryReceive()).toBeUndefined();
  });

  it("an idle receiver uses no CPU while nothing is sent (sync and async waits)", async () => {
    const n = name("idle");
    using tx = Channel.create(n, { capacity: 1024 });
    const kids = ["idle-sync", "idle-async"].map((mode) => spawnFixture("channel-peer.mjs", [mode, n]));
    await Promise.all(kids.map((k) => k.line((l) => l === "waiting")));
    await new Promise((r) => setTimeout(r, 300));
    const before = kids.map((k) => cpuSeconds(k.process.pid!));
    await new Promise((r) => setTimeout(r, 2000));
    const used = kids.map((k, i) => cpuSeconds(k.process.pid!) - before[i]!);
    tx.sendManySync(["a", "b"]);
    for (const k of kids) expect((await k.exited).stdout).toContain("got 1");
    // Spinning would use ~2 s each; a sleeping futex waiter uses ~0 (allow runtime housekeeping).
    for (const u of used) expect(u).toBeLessThan(0.15);
  });

  it.runIf(runtime === "node")("a Node process and a Deno and a Bun process exchange messages over one Channel", async () => {
    for (const rt of ["deno", "bun"]) {
      const bin = fileURLToPath(new URL(`../node_modules/.bin/${rt}`, import.meta.url));
      const a = name(`${rt}a`);
      const b = name(`${rt}b`);
      using tx = Channel.create(a, { capacity: 4096 });
      using rx = Channel.create(b, { capacity: 4096 });
      const args = rt === "deno" ? ["run", "-A", fixturePath("channel-peer.mjs")] : [fixturePath("channel-peer.mjs")];
      const child = spawn(bin, [...args, "echo", a, b], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, IPCKIT_BACKEND: "native" } });
      for (let i = 0; i < 200; i++) {
        const m = new Uint8Array(1 + (i % 500)).fill(i & 255);
        await tx.send(m);
        expect(await rx.receive({ timeout: 20_000 })).toEqual(m);
      }
      tx.sendSync(new Uint8Array(0));
      const code = await new Promise((r) => child.on("close", r));
      expect(code).toBe(0);
    }
  });
});

describe.runIf(backend === "js")("Channel (js backend)", () => {
  it("is unsupported and says why", async () => {
    expect(capabilities.channel).toBe(false);
    const e = await expectCode(() => Channel.create(name("js"), { capacity: 1024 }), "ERR_IPC_UNSUPPORTED");
    expect(e.message).toMatch(/native binding/);
    await expectCode(() => Channel.open("x"), "ERR_IPC_UNSUPPORTED");
  });
});
