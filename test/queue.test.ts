import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Channel, Queue, backend } from "../dist/index.js";
import { expectCode, runFixture, runtime, spawnFixture, uniqueName } from "./helpers.js";

const made: string[] = [];
function name(tag: string): string {
  const n = uniqueName(`ipckit-q-${tag}`).slice(0, 30);
  made.push(n);
  return n;
}
afterEach(() => {
  for (const n of made.splice(0)) {
    if (backend === "native") rmSync(`/dev/shm/${n}`, { force: true });
    else {
      try {
        Queue.unlink(n);
      } catch {
        // closed hosts remove their socket themselves
      }
    }
  }
});

// The same conformance tests on both backends: native (a shared-memory Channel) and js (a socket
// to the creating process, which hosts the queue in a worker).
describe(`Queue (${backend} backend)`, () => {
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
    await expectCode(() => Queue.create("bad name!"), "ERR_IPC_INVALID_ARGUMENT");
    const big = name("big");
    using small = Queue.create(big, { capacity: 256 });
    await expectCode(() => small.put("x".repeat(1000)), "ERR_IPC_TOO_LARGE");
    await small.put("fits");
    expect(await small.get()).toBe("fits");
  });

  it("bad options, closed handles and a lost race with an abort consume nothing", async () => {
    const n = name("opts");
    using q = Queue.create(n, { codec: "json" });
    await expectCode(() => q.get({ timeout: -1 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => q.getSync({ timeout: "x" as never }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => q.put(1, { signal: {} as never }), "ERR_IPC_INVALID_ARGUMENT");
    const ac = new AbortController();
    const started = Date.now();
    const waiting = q.get({ signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(2000);
    await q.put("kept");
    expect(q.qsize()).toBe(1);
    expect(await q.get({ timeout: 1000 })).toBe("kept");
    using r = Queue.open(n);
    r.close();
    await expectCode(() => r.get(), "ERR_IPC_CLOSED");
    await expectCode(() => r.getNowait(), "ERR_IPC_CLOSED");
    await expectCode(() => r.qsize(), "ERR_IPC_CLOSED");
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

  it("a consumer in another process; the creator blocks in getSync while a child puts", async () => {
    const n = name("xc");
    using q = Queue.create(n, { maxsize: 2 });
    const consumer = spawnFixture("queue-peer.mjs", ["get", n, "100"]);
    await consumer.line((l) => l === "ready");
    for (let i = 0; i < 100; i++) await q.put({ i, when: new Date(i), tags: new Set([i]) }, { timeout: 20_000 });
    const done = await consumer.exited;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain(`sum ${(99 * 100) / 2}`);
    const producer = spawnFixture("queue-peer.mjs", ["put", n, "3"]);
    let sum = 0;
    for (let i = 0; i < 3; i++) sum += (q.getSync({ timeout: 20_000 }) as { i: number }).i;
    expect(sum).toBe(3);
    expect((await producer.exited).code).toBe(0);
  });
});

describe.runIf(backend === "native")("Queue (native only)", () => {
  it("refuses to open a plain Channel as a Queue", async () => {
    const plain = name("plain");
    using ch = Channel.create(plain, { capacity: 1024 });
    await expectCode(() => Queue.open(plain), "ERR_IPC_INVALID_ARGUMENT");
    expect(ch.capacity).toBe(1024);
  });
});

describe.runIf(backend === "js")("Queue (js backend: hosted by its creator)", () => {
  it("open with no live host: ERR_IPC_NOT_FOUND; unlink removes the name, open handles keep working", async () => {
    await expectCode(() => Queue.open(name("none")), "ERR_IPC_NOT_FOUND");
    await expectCode(() => Queue.unlink(name("none2")), "ERR_IPC_NOT_FOUND");
    const n = name("unl");
    using q = Queue.create(n);
    using r = Queue.open(n);
    await expectCode(() => Queue.create(n), "ERR_IPC_EXISTS");
    Queue.unlink(n);
    await expectCode(() => Queue.open(n), "ERR_IPC_NOT_FOUND");
    await q.put(7);
    expect(await r.get()).toBe(7);
    using again = Queue.create(n);
    expect(again.qsize()).toBe(0);
    q.close();
    await expectCode(() => r.get({ timeout: 5000 }), "ERR_IPC_CLOSED");
  });

  it("when the hosting process dies, waiting and later calls get ERR_IPC_CLOSED; the name can be created again", async () => {
    const n = name("death");
    const host = spawnFixture("queue-peer.mjs", ["host", n, "0"]);
    await host.line((l) => l === "ready");
    using q = Queue.open(n);
    await q.put("one");
    expect(q.qsize()).toBe(1);
    expect(await q.get()).toBe("one");
    const waiting = q.get();
    host.process.kill("SIGKILL");
    await expectCode(() => waiting, "ERR_IPC_CLOSED");
    await expectCode(() => q.put(1), "ERR_IPC_CLOSED");
    await expectCode(() => q.getSync({ timeout: 1000 }), "ERR_IPC_CLOSED");
    await host.exited;
    await expectCode(() => Queue.open(n), "ERR_IPC_NOT_FOUND");
    using fresh = Queue.create(n);
    expect(fresh.empty()).toBe(true);
  });

  it("a host that never closes still exits on its own (after its pending get) and removes its socket", async () => {
    const n = name("leave");
    const child = await runFixture("queue-peer.mjs", ["leave", n, "0"]);
    expect(child.code).toBe(0);
    expect(child.stdout).toContain("ERR_IPC_TIMEOUT");
    await expectCode(() => Queue.open(n), "ERR_IPC_NOT_FOUND");
    await expectCode(() => Queue.unlink(n), "ERR_IPC_NOT_FOUND");
  });

  it("Channel stays unsupported", async () => {
    await expectCode(() => Channel.create(name("ch"), { capacity: 1024 }), "ERR_IPC_UNSUPPORTED");
  });
});

describe.runIf(runtime === "node")("Queue from `node -e` (the worker must not inherit the eval'd code)", () => {
  it("puts and gets in a program given on the command line", async () => {
    const { spawnSync } = await import("node:child_process");
    const dist = new URL("../dist/index.js", import.meta.url).href;
    const code = `import { Queue } from ${JSON.stringify(dist)}; const q = Queue.create(${JSON.stringify(name("eval"))}); q.putSync({ n: 7 }); console.log(JSON.stringify(q.getSync())); q.close();`;
    const r = spawnSync("node", ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 20_000, env: process.env });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe('{"n":7}');
  });
});
