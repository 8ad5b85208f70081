import { statSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SharedMemory, backend, capabilities } from "../dist/index.js";
import { expectCode, runFixture, spawnFixture, uniqueName } from "./helpers.js";

const made: string[] = [];
function name(tag: string): string {
  const n = uniqueName(`ipckit-shm-${tag}`).slice(0, 30);
  made.push(n);
  return n;
}
afterEach(() => {
  for (const n of made.splice(0)) rmSync(`/dev/shm/${n}`, { force: true });
});

describe.runIf(backend === "native")("SharedMemory (native)", () => {
  it("creates, opens by either spelling, and shares bytes", () => {
    const n = name("basic");
    using a = SharedMemory.create(n, { size: 4096 });
    using b = SharedMemory.open(`/${n}`);
    expect(a.name).toBe(`/${n}`);
    expect(b.size).toBe(4096);
    new Uint8Array(a.buffer)[17] = 42;
    expect(new Uint8Array(b.buffer)[17]).toBe(42);
    expect(a.buffer).toBe(a.buffer);
  });

  it("shares writes with another process, both ways, with no call", async () => {
    const n = name("xproc");
    using shm = SharedMemory.create(n, { size: 4096 });
    const bytes = new Uint8Array(shm.buffer);
    const child = spawnFixture("shm-peer.mjs", [n]);
    await child.line((l) => l.startsWith("opened"));
    for (let i = 1; i <= 1024; i++) bytes[i] = (i * 7) & 255;
    Atomics.store(bytes, 0, 1);
    const result = await child.exited;
    expect(result.stdout).toContain("done");
    expect(result.code).toBe(0);
    expect(Atomics.load(bytes, 0)).toBe(2);
    for (let i = 1025; i <= 2048; i++) expect(bytes[i]).toBe((i * 3) & 255);
  });

  it("creates objects 0600 by default and applies an explicit mode exactly", () => {
    const n1 = name("mode1");
    const n2 = name("mode2");
    using a = SharedMemory.create(n1, { size: 1 });
    using b = SharedMemory.create(n2, { size: 1, mode: 0o640 });
    expect(statSync(`/dev/shm/${n1}`).mode & 0o777).toBe(0o600);
    expect(statSync(`/dev/shm/${n2}`).mode & 0o777).toBe(0o640);
    expect(a.size + b.size).toBe(2);
  });

  it("exclusive refuses an existing name; non-exclusive opens it when the size matches", async () => {
    const n = name("excl");
    using a = SharedMemory.create(n, { size: 8192 });
    await expectCode(() => SharedMemory.create(n, { size: 8192 }), "ERR_IPC_EXISTS");
    await expectCode(() => SharedMemory.create(n, { size: 100, exclusive: false }), "ERR_IPC_EXISTS");
    using b = SharedMemory.create(n, { size: 8192, exclusive: false });
    new Uint32Array(a.buffer)[0] = 0xdeadbeef;
    expect(new Uint32Array(b.buffer)[0]).toBe(0xdeadbeef);
  });

  it("opening or unlinking a missing name is ERR_IPC_NOT_FOUND", async () => {
    const n = name("missing");
    await expectCode(() => SharedMemory.open(n), "ERR_IPC_NOT_FOUND");
    await expectCode(() => SharedMemory.unlink(n), "ERR_IPC_NOT_FOUND");
  });

  it("unlink removes the name but keeps existing mappings", async () => {
    const n = name("unlink");
    using a = SharedMemory.create(n, { size: 64 });
    using b = SharedMemory.open(n);
    a.unlink();
    expect(existsSync(`/dev/shm/${n}`)).toBe(false);
    new Uint8Array(a.buffer)[0] = 5;
    expect(new Uint8Array(b.buffer)[0]).toBe(5);
    await expectCode(() => SharedMemory.open(n), "ERR_IPC_NOT_FOUND");
    await expectCode(() => b.unlink(), "ERR_IPC_NOT_FOUND");
  });

  it("readonly: another process's writes are visible; its own writes stay private and never fault", async () => {
    const n = name("ro");
    using shm = SharedMemory.create(n, { size: 8192 });
    new Uint8Array(shm.buffer)[0] = 9;
    const result = await runFixture("shm-peer.mjs", [n, "readonly"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("local 77 first 9");
    expect(new Uint8Array(shm.buffer)[4000]).toBe(0);
    using ro = SharedMemory.open(n, { readonly: true });
    new Uint8Array(shm.buffer)[1] = 33;
    expect(new Uint8Array(ro.buffer)[1]).toBe(33);
  });

  it("close detaches the buffer and every view; close twice is harmless; use after close is ERR_IPC_CLOSED", async () => {
    const n = name("close");
    const shm = SharedMemory.create(n, { size: 4096 });
    const buffer = shm.buffer;
    const view = new Uint8Array(buffer);
    view[0] = 1;
    shm.close();
    shm.close();
    expect(shm.closed).toBe(true);
    expect(buffer.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(view[0]).toBeUndefined();
    await expectCode(() => shm.buffer, "ERR_IPC_CLOSED");
    shm.unlink();
  });

  it("Symbol.dispose closes the handle", () => {
    const n = name("dispose");
    let view: Uint8Array;
    {
      using shm = SharedMemory.create(n, { size: 16 });
      view = new Uint8Array(shm.buffer);
      view[0] = 1;
    }
    expect(view.length).toBe(0);
    using again = SharedMemory.open(n);
    expect(new Uint8Array(again.buffer)[0]).toBe(1);
  });

  it("survives many segments whose buffers are dropped without close (finalizer path)", () => {
    const n = name("finalize");
    using keeper = SharedMemory.create(n, { size: 1 << 20 });
    for (let i = 0; i < 300; i++) {
      const s = SharedMemory.open(n);
      new Uint8Array(s.buffer)[i] = i & 255;
    }
    (globalThis as { gc?: () => void }).gc?.();
    for (let i = 0; i < 300; i++) {
      const s = SharedMemory.open(n);
      const v = new Uint8Array(s.buffer);
      expect(v[i]).toBe(i & 255);
      s.close();
    }
    expect(new Uint8Array(keeper.buffer)[299]).toBe(299 & 255);
  });

  it.each([
    ["zero", 0],
    ["negative", -1],
    ["fractional", 1.5],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["beyond MAX_SAFE_INTEGER", 2 ** 60],
    ["a string", "4096"],
    ["a bigint", 4096n],
    ["missing", undefined],
  ])("refuses size %s with ERR_IPC_INVALID_ARGUMENT", async (_label, size) => {
    const n = name("badsize");
    await expectCode(() => SharedMemory.create(n, { size: size as number }), "ERR_IPC_INVALID_ARGUMENT");
    expect(existsSync(`/dev/shm/${n}`)).toBe(false);
  });

  it("refuses a size beyond /dev/shm's free space with ERR_IPC_LIMIT and leaves nothing behind", async () => {
    const n = name("huge");
    const e = await expectCode(() => SharedMemory.create(n, { size: 2 ** 50 }), "ERR_IPC_LIMIT");
    expect(e.message).toMatch(/free/);
    expect(existsSync(`/dev/shm/${n}`)).toBe(false);
  });

  it.each([
    ["empty", ""],
    ["only a slash", "/"],
    ["a nested slash", "a/b"],
    ["a double slash", "//a"],
    ["a space", "a b"],
    ["dot-dot", ".."],
    ["31 characters", "x".repeat(31)],
    ["a NUL", "a\0b"],
    ["a number", 5],
    ["null", null],
  ])("refuses a name that is %s", async (_label, bad) => {
    await expectCode(() => SharedMemory.create(bad as string, { size: 1 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => SharedMemory.open(bad as string), "ERR_IPC_INVALID_ARGUMENT");
  });

  it("accepts a 30-character name", () => {
    const n = `${uniqueName("l")}-${"y".repeat(30)}`.slice(-30);
    made.push(n);
    using shm = SharedMemory.create(n, { size: 1 });
    expect(shm.name).toBe(`/${n}`);
  });

  it("refuses bad options: modes, flags, non-object options", async () => {
    const n = name("opts");
    await expectCode(() => SharedMemory.create(n, { size: 1, mode: 0o1777 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => SharedMemory.create(n, { size: 1, mode: -1 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => SharedMemory.create(n, { size: 1, exclusive: "yes" as unknown as boolean }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => SharedMemory.create(n, null as unknown as { size: number }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => SharedMemory.open(n, { readonly: 1 as unknown as boolean }), "ERR_IPC_INVALID_ARGUMENT");
    expect(existsSync(`/dev/shm/${n}`)).toBe(false);
  });

  it("interoperates with Python's multiprocessing.shared_memory (a program that does not use ipckit)", async () => {
    const n = name("py");
    using shm = SharedMemory.create(n, { size: 4096 });
    new Uint8Array(shm.buffer).set([1, 2, 3], 0);
    const script = [
      "import sys",
      "from multiprocessing import shared_memory, resource_tracker",
      "s = shared_memory.SharedMemory(name=sys.argv[1])",
      "resource_tracker.unregister(s._name, 'shared_memory')",
      "print(s.size >= 4096, bytes(s.buf[0:3]).hex())",
      "s.buf[100:105] = b'hello'",
      "s.close()",
    ].join("\n");
    const { spawnSync } = await import("node:child_process");
    const py = spawnSync("python3", ["-c", script, n], { encoding: "utf8" });
    expect(py.stderr).toBe("");
    expect(py.stdout.trim()).toBe("True 010203");
    expect(new TextDecoder().decode(new Uint8Array(shm.buffer, 100, 5))).toBe("hello");
  });

  describe("fromFile", () => {
    const files: string[] = [];
    function filePath(tag: string): string {
      const p = join(tmpdir(), uniqueName(`ipckit-file-${tag}`));
      files.push(p);
      return p;
    }
    afterEach(() => {
      for (const f of files.splice(0)) rmSync(f, { force: true });
    });

    it("creates and sizes a file, shares it across processes, and the bytes stay in the file", async () => {
      const p = filePath("share");
      const shm = SharedMemory.fromFile(p, { size: 4096, create: true });
      expect(shm.size).toBe(4096);
      expect(shm.name).toBe(p);
      expect(statSync(p).mode & 0o777).toBe(0o600);
      const child = await runFixture("file-peer.mjs", [p]);
      expect(child.stdout).toContain("peer wrote");
      expect(new TextDecoder().decode(new Uint8Array(shm.buffer, 0, 4))).toBe("peer");
      new Uint8Array(shm.buffer).set(new TextEncoder().encode("main"), 10);
      shm.close();
      const bytes = readFileSync(p);
      expect(bytes.length).toBe(4096);
      expect(bytes.subarray(0, 4).toString()).toBe("peer");
      expect(bytes.subarray(10, 14).toString()).toBe("main");
    });

    it("maps an existing file at its length, and extends it when a larger size is given", () => {
      const p = filePath("existing");
      writeFileSync(p, "abc");
      using a = SharedMemory.fromFile(p);
      expect(a.size).toBe(3);
      expect(new TextDecoder().decode(new Uint8Array(a.buffer))).toBe("abc");
      using b = SharedMemory.fromFile(p, { size: 10000 });
      expect(b.size).toBe(10000);
      expect(statSync(p).size).toBe(10000);
    });

    it("refuses missing files, empty files without a size, directories and symlinks", async () => {
      const p = filePath("bad");
      await expectCode(() => SharedMemory.fromFile(p), "ERR_IPC_NOT_FOUND");
      writeFileSync(p, "");
      await expectCode(() => SharedMemory.fromFile(p), "ERR_IPC_INVALID_ARGUMENT");
      await expectCode(() => SharedMemory.fromFile(tmpdir()), "ERR_IPC_INVALID_ARGUMENT");
      const link = filePath("link");
      symlinkSync(p, link);
      await expectCode(() => SharedMemory.fromFile(link, { size: 10, create: true }), "ERR_IPC_PERMISSION");
      await expectCode(() => SharedMemory.fromFile("", {}), "ERR_IPC_INVALID_ARGUMENT");
      await expectCode(() => SharedMemory.fromFile(p, { size: -5 }), "ERR_IPC_INVALID_ARGUMENT");
    });

    it("instance unlink removes the file", async () => {
      const p = filePath("rm");
      using shm = SharedMemory.fromFile(p, { size: 10, create: true });
      shm.unlink();
      expect(existsSync(p)).toBe(false);
      await expectCode(() => shm.unlink(), "ERR_IPC_NOT_FOUND");
    });
  });

  it("capabilities say shared memory works", () => {
    expect(capabilities.sharedMemory).toBe(true);
  });
});

describe.runIf(backend === "js")("SharedMemory (js backend)", () => {
  it("every call throws ERR_IPC_UNSUPPORTED saying what would provide it", async () => {
    expect(capabilities.sharedMemory).toBe(false);
    const e = await expectCode(() => SharedMemory.create("x", { size: 1 }), "ERR_IPC_UNSUPPORTED");
    expect(e.message).toMatch(/native binding/);
    await expectCode(() => SharedMemory.open("x"), "ERR_IPC_UNSUPPORTED");
    await expectCode(() => SharedMemory.fromFile("/tmp/x"), "ERR_IPC_UNSUPPORTED");
    await expectCode(() => SharedMemory.unlink("x"), "ERR_IPC_UNSUPPORTED");
  });
});
