import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Channel, Queue, backend } from "../dist/index.js";
import { expectCode, runtime, spawnFixture, uniqueName } from "./helpers.js";

const made: string[] = [];
function name(tag: string): string {
  const n = uniqueName(`ipckit-q-${tag}`).slice(0, 30);
  made.push(n);
  return n;
}
afterEach(() => {
  for (const n of made.splice(0)) rmSync(`/dev/shm/${n}`, { force: true });
});

describe.runIf(backend === "native")("Queue (native, on Channel)", () => {
  it("puts and gets JS values with every form; qsize, empty, full", async () => {
    const n = name("basic");
    using q = Queue.create(n, { maxsize: 3 });
    using r = Queue.open(n);
    expect(q.codec).toBe(runtime === "bun" ? "msgpack" : "structured");
    expect(r.maxsize).toBe(3);
    expect(r.empty()).toBe(true);
    const value =
      runtime === "bun"
        ? { a: 1, s: "x", list: [1, 2] }
        : { a: 1, big: 10n, when: new Date(5), m: new Map([[1, "x"]]), bytes: new Uint8Array([1, 2]) };
    await q.put(value);
    q.putSync([1, "two"]);
    q.putNowait(null);
    expect(q.qsize()).toBe(3);
    expect(q.full()).toBe(true);
    await expectCode(() => q.putNowait(4), "ERR_IPC_BUSY");
    await expectCode(() => q.put(4, { timeout: 20 }), "ERR_IPC_TIMEOUT");
    await expectCode(() => q.putSync(4, { timeout: 20 }), "ERR_IPC_TIMEOUT");
    expect(await r.get()).toEqual(value);
    expect(r.getSync()).toEqual([1, "two"]);
    expect(r.getNowait()).toBe(null);
    await expectCode(() => r.getNowait(), "ERR_IPC_BUSY");
    await expectCode(() => r.get({ timeout: 20 }), "ERR_IPC_TIMEOUT");
    await expect(r.get({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    expect(r.empty()).toBe(true);
  });

  it("maxsize applies backpressure: put waits until a get makes room", async () => {
    const n = name("bp");
    using q = Queue.create(n, { maxsize: 1, codec: "json" });
    await q.put("first");
    let done = false;
    const second = q.put("second").then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    expect(await q.get()).toBe("first");
    await second;
    expect(await q.get()).toBe("second");
  });

  it("json and msgpack codecs; the opener learns the codec from the queue", async () => {
    for (const codec of ["json", "msgpack"] as const) {
      const n = name(codec);
      using q = Queue.create(n, { codec });
      using r = Queue.open(n);
      expect(r.codec).toBe(codec);
      await q.put({ x: [1, 2, 3], s: "é" });
      expect(await r.get()).toEqual({ x: [1, 2, 3], s: "é" });
    }
    await expectCode(() => Queue.create(name("bad"), { codec: "xml" as never }), "ERR_IPC_INVALID_ARGUMENT");
    if (runtime === "bun") await expectCode(() => Queue.create(name("st"), { codec: "structured" }), "ERR_IPC_UNSUPPORTED");
    await expectCode(() => Queue.create(name("bad2"), { maxsize: -1 }), "ERR_IPC_INVALID_ARGUMENT");
    const plain = name("plain");
    using ch = Channel.create(plain, { capacity: 1024 });
    await expectCode(() => Queue.open(plain), "ERR_IPC_INVALID_ARGUMENT");
    const big = name("big");
    using small = Queue.create(big, { capacity: 256 });
    await expectCode(() => small.put("x".repeat(1000)), "ERR_IPC_TOO_LARGE");
    expect(ch.capacity).toBe(1024);
  });

  it("carries values between processes: two producers, one consumer, a bounded queue", async () => {
    const n = name("xp");
    using q = Queue.create(n, { maxsize: 5 });
    const producers = [0, 1].map(() => spawnFixture("queue-peer.mjs", ["put", n, "500"]));
    let sum = 0;
    for (let i = 0; i < 1000; i++) {
      const v = (await q.get({ timeout: 20_000 })) as { i: number; when: Date; tags: Set<number> };
      if (runtime !== "bun") {
        expect(v.when).toBeInstanceOf(Date);
        expect(v.tags.has(v.i)).toBe(true);
      }
      sum += v.i;
    }
    for (const p of producers) expect((await p.exited).code).toBe(0);
    expect(sum).toBe(2 * ((499 * 500) / 2));
    q.close();
    q.close();
    await expectCode(() => q.put(1), "ERR_IPC_CLOSED");
  });
});

describe.runIf(backend === "js")("Queue (js backend)", () => {
  it("is unsupported until the socket transport is wired in, and says so", async () => {
    const e = await expectCode(() => Queue.create(name("js")), "ERR_IPC_UNSUPPORTED");
    expect(e.message).toMatch(/socket transport/);
  });
});
