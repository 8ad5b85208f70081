import { rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import process from "node:process";
import { describe, expect, it } from "vitest";
import { Fifo, backend, capabilities, type FifoReader, type FifoWriter } from "../dist/index.js";
import { cleanupAfterEach, expectCode, spawnFixture, uniqueName } from "./helpers.js";

const cleanup = cleanupAfterEach();

function fifoPath(tag: string): string {
  const path = `/tmp/${uniqueName(`ipckit-fifo-${tag}`)}`;
  cleanup.add(() => rmSync(path, { force: true }));
  return path;
}

function track<T extends { close(): void }>(handle: T): T {
  cleanup.add(() => handle.close());
  return handle;
}

async function pair(path: string): Promise<[FifoReader, FifoWriter]> {
  const [r, w] = await Promise.all([Fifo.openReader(path), Fifo.openWriter(path)]);
  return [track(r), track(w)];
}

async function readAll(reader: FifoReader): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of reader) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe.runIf(process.platform !== "win32")(`Fifo (${backend} backend)`, () => {
  it("is a capability on Unix", () => {
    expect(capabilities.fifo).toBe(true);
  });

  it("creates with mode 0600 by default or the mode given, refuses an existing path", async () => {
    const a = fifoPath("mode");
    const b = fifoPath("mode2");
    Fifo.create(a);
    Fifo.create(b, { mode: 0o640 });
    expect(statSync(a).isFIFO()).toBe(true);
    expect(statSync(a).mode & 0o777).toBe(0o600);
    expect(statSync(b).mode & 0o777).toBe(0o640);
    await expectCode(() => Fifo.create(a), "ERR_IPC_EXISTS");
    const link = fifoPath("link");
    symlinkSync("/tmp/ipckit-nowhere", link);
    await expectCode(() => Fifo.create(link), "ERR_IPC_EXISTS");
    Fifo.unlink(a);
    await expectCode(() => Fifo.openReader(a), "ERR_IPC_NOT_FOUND");
  });

  it("refuses bad input", async () => {
    await expectCode(() => Fifo.create(""), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Fifo.create(5 as never), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Fifo.create(fifoPath("bad"), { mode: 0o1777 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Fifo.create(fifoPath("bad"), { mode: -1 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Fifo.create("/nonexistent-dir/fifo"), "ERR_IPC_NOT_FOUND");
    const file = fifoPath("file");
    writeFileSync(file, "x");
    await expectCode(() => Fifo.openReader(file), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Fifo.openWriter(file), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Fifo.unlink(file), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Fifo.openReader(file, { signal: "no" as never }), "ERR_IPC_INVALID_ARGUMENT");
  });

  it("opening waits without blocking the loop, and an AbortSignal cancels the wait", async () => {
    const path = fifoPath("wait");
    Fifo.create(path);
    // A writer with no reader waits; timers keep firing meanwhile.
    const controller = new AbortController();
    const opening = Fifo.openWriter(path, { signal: controller.signal });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
    const started = Date.now();
    controller.abort();
    await expect(opening).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(1000);
    // The same for a reader that has no writer (the JS backend's open waits for one).
    const c2 = new AbortController();
    const reading = (async () => {
      const r = track(await Fifo.openReader(path, { signal: c2.signal }));
      return r.read();
    })();
    await new Promise((r) => setTimeout(r, 50));
    c2.abort();
    if (backend === "js") await expect(reading).rejects.toMatchObject({ name: "AbortError" });
    else {
      // Natively the reader opened at once; its read waits until closed.
      cleanup.runAll();
      await expectCode(() => reading, "ERR_IPC_CLOSED");
    }
    // After aborts, a real pair still opens.
    const path2 = fifoPath("wait2");
    Fifo.create(path2);
    const [r, w] = await pair(path2);
    await w.write("ok");
    w.close();
    expect(await readAll(r)).toBe("ok");
  });

  it("carries data from another process and ends with EOF when the last writer closes", async () => {
    const path = fifoPath("xproc");
    Fifo.create(path);
    const writer = spawnFixture("fifo-writer.mjs", [path, "200"]);
    const reader = track(await Fifo.openReader(path));
    const text = await readAll(reader);
    expect(text.split("\n").filter(Boolean)).toEqual(Array.from({ length: 200 }, (_, i) => `line ${i}`));
    expect((await writer.exited).stdout).toContain("writer done");
    expect(await reader.read()).toBeNull();
  });

  it("reads as a Web ReadableStream and writes through a Web WritableStream", async () => {
    const path = fifoPath("web");
    Fifo.create(path);
    const [r, w] = await pair(path);
    const sink = w.writable.getWriter();
    await sink.write("web ");
    await sink.write(new TextEncoder().encode("streams"));
    await sink.close();
    const chunks: Uint8Array[] = [];
    const source = r.readable.getReader();
    for (;;) {
      const { done, value } = await source.read();
      if (done) break;
      chunks.push(value);
    }
    expect(Buffer.concat(chunks).toString()).toBe("web streams");
  });

  it("write waits while the pipe is full (backpressure) and resolves once the reader drains it", async () => {
    const path = fifoPath("bp");
    Fifo.create(path);
    const [r, w] = await pair(path);
    const big = new Uint8Array(1024 * 1024).fill(7);
    let done = false;
    const writing = w.write(big).then(() => (done = true));
    await new Promise((res) => setTimeout(res, 100));
    expect(done).toBe(false);
    let got = 0;
    while (got < big.length) got += (await r.read())!.length;
    await writing;
    expect(got).toBe(big.length);
  });

  it("writeSync writes whole messages", async () => {
    const path = fifoPath("sync");
    Fifo.create(path);
    const [r, w] = await pair(path);
    w.writeSync("sync ");
    w.writeSync(new Uint8Array([49]));
    w.close();
    expect(await readAll(r)).toBe("sync 1");
  });

  it("a writer whose reader left gets ERR_IPC_CLOSED; closed handles give ERR_IPC_CLOSED", async () => {
    const path = fifoPath("gone");
    Fifo.create(path);
    const [r, w] = await pair(path);
    r.close();
    r.close();
    await expectCode(async () => {
      for (let i = 0; i < 100; i++) await w.write(new Uint8Array(65536));
    }, "ERR_IPC_CLOSED");
    await expectCode(() => r.read(), "ERR_IPC_CLOSED");
    w.close();
    await expectCode(() => w.write("x"), "ERR_IPC_CLOSED");
    await expectCode(() => w.writeSync("x"), "ERR_IPC_CLOSED");
  });
});

describe.runIf(process.platform === "win32")("Fifo on Windows", () => {
  it("is unsupported", async () => {
    await expectCode(() => Fifo.create("x"), "ERR_IPC_UNSUPPORTED");
  });
});
