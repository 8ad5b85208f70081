import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { IpcEvent, Mutex, Semaphore, SharedMemory, backend } from "../dist/index.js";
import { expectCode, spawnFixture, uniqueName } from "./helpers.js";

const made: string[] = [];
function name(tag: string): string {
  const n = uniqueName(`ipckit-sy-${tag}`).slice(0, 30);
  made.push(n);
  return n;
}
afterEach(() => {
  for (const n of made.splice(0)) rmSync(`/dev/shm/${n}`, { force: true });
});

describe.runIf(backend === "native")("Mutex (native)", () => {
  it("locks, refuses a second locker, unlocks, with every form", async () => {
    const n = name("m");
    using a = Mutex.create(n);
    using b = Mutex.open(n);
    expect(a.tryLock()).toEqual({ ownerDied: false });
    expect(a.locked).toBe(true);
    // Held by this process: another handle (as another thread would) waits.
    await expectCode(() => b.lockSync({ timeout: 30 }), "ERR_IPC_TIMEOUT");
    await expectCode(() => b.lock({ timeout: 30 }), "ERR_IPC_TIMEOUT");
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await expect(b.lock({ signal: ac.signal })).rejects.toMatchObject({ name: "AbortError" });
    const later = b.lock({ timeout: 5000 });
    setTimeout(() => a.unlock(), 30);
    expect(await later).toEqual({ ownerDied: false });
    b.unlock();
    await expectCode(() => b.unlock(), "ERR_IPC_PERMISSION");
    expect(b.lockSync()).toEqual({ ownerDied: false });
    b.unlock();
  });

  it("belongs to the process that took it, whichever thread waited", async () => {
    const n = name("own");
    using m = Mutex.create(n);
    m.lockSync();
    const child = spawnFixture("sync-peer.mjs", ["mutex-async", n]);
    await child.line((l) => l === "waiting");
    await new Promise((r) => setTimeout(r, 100));
    m.unlock();
    expect(await child.line((l) => l.startsWith("locked"))).toBe("locked false");
    expect((await child.exited).code).toBe(0);
    expect(m.locked).toBe(false);
  });

  it("when the holder is SIGKILLed, the next locker gets the lock and is told the owner died", async () => {
    const n = name("robust");
    using m = Mutex.create(n);
    const child = spawnFixture("sync-peer.mjs", ["mutex-hold", n]);
    await child.line((l) => l === "locked");
    expect(m.tryLock()).toBe(false);
    const waiting = m.lock({ timeout: 10_000 });
    child.process.kill("SIGKILL");
    await child.exited;
    expect(await waiting).toEqual({ ownerDied: true });
    m.unlock();
    expect(m.tryLock()).toEqual({ ownerDied: false });
    m.unlock();

    const again = spawnFixture("sync-peer.mjs", ["mutex-hold", n]);
    await again.line((l) => l === "locked");
    again.process.kill("SIGKILL");
    await again.exited;
    expect(m.lockSync({ timeout: 10_000 })).toEqual({ ownerDied: true });
    m.unlock();
  });

  it("keeps four processes mutually exclusive", async () => {
    const n = name("mx");
    const c = name("mxc");
    using m = Mutex.create(n);
    using counter = SharedMemory.create(c, { size: 64 });
    const kids = [0, 1, 2, 3].map(() => spawnFixture("sync-peer.mjs", ["mutex-churn", n, c, "20000"]));
    for (const k of kids) expect((await k.exited).code).toBe(0);
    expect(new Int32Array(counter.buffer)[0]).toBe(80_000);
    expect(m.locked).toBe(false);
  }, 120_000);

  it("refuses bad names, wrong kinds and closed handles", async () => {
    await expectCode(() => Mutex.create("a/b"), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Mutex.open(name("none")), "ERR_IPC_NOT_FOUND");
    const s = name("kind");
    using sem = Semaphore.create(s);
    const e = await expectCode(() => Mutex.open(s), "ERR_IPC_INVALID_ARGUMENT");
    expect(e.message).toMatch(/semaphore/);
    const n = name("closed");
    const m = Mutex.create(n);
    await expectCode(() => Mutex.create(n), "ERR_IPC_EXISTS");
    m.close();
    m.close();
    await expectCode(() => m.tryLock(), "ERR_IPC_CLOSED");
    await expectCode(() => m.lock(), "ERR_IPC_CLOSED");
    Mutex.unlink(n);
    expect(sem.value).toBe(1);
  });
});

describe.runIf(backend === "native")("Semaphore (native)", () => {
  it("counts, waits, times out and aborts", async () => {
    const n = name("s");
    using s = Semaphore.create(n, { value: 2 });
    using t = Semaphore.open(n);
    expect(s.value).toBe(2);
    expect(s.tryAcquire()).toBe(true);
    t.acquireSync();
    expect(s.tryAcquire()).toBe(false);
    await expectCode(() => t.acquireSync({ timeout: 20 }), "ERR_IPC_TIMEOUT");
    await expectCode(() => t.acquire({ timeout: 20 }), "ERR_IPC_TIMEOUT");
    await expect(t.acquire({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    const later = t.acquire({ timeout: 5000 });
    setTimeout(() => s.release(), 20);
    await later;
    s.release();
    s.release();
    expect(t.value).toBe(2);
    await expectCode(() => Semaphore.create(name("neg"), { value: -1 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Semaphore.create(name("frac"), { value: 0.5 }), "ERR_IPC_INVALID_ARGUMENT");
    using big = Semaphore.create(name("max"), { value: 0x7fffffff });
    await expectCode(() => big.release(), "ERR_IPC_LIMIT");
  });

  it("loses and invents no counts: 4 processes x 100,000 acquire/release", async () => {
    const n = name("churn");
    const c = name("churnc");
    using s = Semaphore.create(n, { value: 1 });
    using counter = SharedMemory.create(c, { size: 64 });
    const kids = [0, 1, 2, 3].map(() => spawnFixture("sync-peer.mjs", ["sem-churn", n, c, "100000"]));
    for (const k of kids) expect((await k.exited).code).toBe(0);
    // value 1 makes it a lock: a lost count would deadlock, an invented one would let two in.
    expect(new Int32Array(counter.buffer)[0]).toBe(400_000);
    expect(s.value).toBe(1);
  }, 180_000);
});

describe.runIf(backend === "native")("IpcEvent (native)", () => {
  it("sets, clears and wakes every waiter in every process", async () => {
    const n = name("e");
    using e = IpcEvent.create(n);
    expect(e.isSet()).toBe(false);
    await expectCode(() => e.waitSync({ timeout: 20 }), "ERR_IPC_TIMEOUT");
    await expectCode(() => e.wait({ timeout: 20 }), "ERR_IPC_TIMEOUT");
    const kids = [0, 1, 2].map(() => spawnFixture("sync-peer.mjs", ["event-wait", n]));
    await Promise.all(kids.map((k) => k.line((l) => l === "waiting")));
    const local = e.wait({ timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    e.set();
    await local;
    for (const k of kids) expect((await k.exited).stdout).toContain("woke");
    expect(e.isSet()).toBe(true);
    e.waitSync();
    e.clear();
    expect(e.isSet()).toBe(false);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await expect(e.wait({ signal: ac.signal })).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe.runIf(backend === "js")("sync primitives (js backend)", () => {
  it("are unsupported and say why", async () => {
    await expectCode(() => Mutex.create(name("js")), "ERR_IPC_UNSUPPORTED");
    await expectCode(() => Semaphore.create(name("js")), "ERR_IPC_UNSUPPORTED");
    await expectCode(() => IpcEvent.open("x"), "ERR_IPC_UNSUPPORTED");
  });
});
