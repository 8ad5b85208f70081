import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { Connection, Pipe, backend, capabilities, connect, listen, spawnWithConnection, type CodecName, type Listener } from "../dist/index.js";
import { cleanupAfterEach, expectCode, fixturePath, runFixture, runtime, runtimeCommand, spawnFixture, uniqueName, type Child } from "./helpers.js";

const cleanup = cleanupAfterEach();

/** A socket path under /tmp, short enough for every runtime, removed after the test. */
function socketPath(tag: string): string {
  const path = `/tmp/${uniqueName(`ipckit-${tag}`)}.sock`;
  cleanup.add(() => rmSync(path, { force: true }));
  return path;
}

function track<T extends { close(): void }>(handle: T): T {
  cleanup.add(() => handle.close());
  return handle;
}

function child(c: Child): Child {
  cleanup.add(() => c.process.kill("SIGKILL"));
  return c;
}

async function startServer(address: string, options: object = {}, env: NodeJS.ProcessEnv = {}): Promise<{ child: Child; address: string }> {
  const c = child(spawnFixture("conn-server.mjs", [address, JSON.stringify(options)], { env }));
  const line = await c.line((l) => l.startsWith("listening"));
  return { child: c, address: line.split(" ")[1]! };
}

/** The backend a peer process should use to test wire compatibility with this one. */
const otherBackend = backend === "native" ? "js" : "";

const structuredWorks = runtime !== "bun";

describe("Connection basics", () => {
  it("reports the connection capability on both backends", () => {
    expect(capabilities.connection).toBe(true);
  });

  it("Pipe() carries values both ways with the default codec (bytes as bytes, others as JSON)", async () => {
    const [a, b] = Pipe().map(track) as [Connection, Connection];
    await a.send({ hello: "world", n: [1, 2] });
    await a.send(new Uint8Array([1, 2, 3]));
    await b.send("text");
    expect(await b.receive()).toEqual({ hello: "world", n: [1, 2] });
    const bytes = await b.receive();
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([...(bytes as Uint8Array)]).toEqual([1, 2, 3]);
    expect(await a.receive()).toBe("text");
    expect(a.codec).toBe("auto");
  });

  it.each(["json", "msgpack", "bytes", ...(structuredWorks ? ["structured"] : [])] as CodecName[])("codec %s round-trips", async (codec) => {
    const [a, b] = Pipe({ codec }).map(track) as [Connection, Connection];
    const value =
      codec === "bytes"
        ? new Uint8Array([9, 8, 7])
        : codec === "structured"
          ? { map: new Map([[1, "x"]]), when: new Date(5), big: 10n }
          : { a: 1, list: ["x", true, null] };
    await a.send(value);
    const got = await b.receive();
    if (codec === "bytes") expect([...(got as Uint8Array)]).toEqual([9, 8, 7]);
    else expect(got).toEqual(value);
  });

  it.runIf(runtime === "bun")("refuses the structured codec on Bun (its v8.serialize is another format)", async () => {
    const [a, b] = Pipe({ codec: "structured" }).map(track) as [Connection, Connection];
    await expectCode(() => a.send({ x: 1 }), "ERR_IPC_UNSUPPORTED");
    b.close();
  });

  it("keeps messages whole and in order, from 0 bytes to 3 MiB", async () => {
    const [a, b] = Pipe({ codec: "bytes" }).map(track) as [Connection, Connection];
    const sizes = [0, 1, 3, 4, 5, 65535, 65536, 65537, 3 * 1024 * 1024];
    const sent = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
    const sending = Promise.all(sent.map((m) => a.send(m)));
    for (const [i, n] of sizes.entries()) {
      const got = (await b.receive()) as Uint8Array;
      expect(got.length).toBe(n);
      if (n > 0) expect(got[0] === i + 1 && got[n - 1] === i + 1).toBe(true);
    }
    await sending;
  });

  it("refuses a message over maxMessageSize when sending, and keeps the connection", async () => {
    const [a, b] = Pipe({ maxMessageSize: 1024 }).map(track) as [Connection, Connection];
    await expectCode(() => a.send(new Uint8Array(2000)), "ERR_IPC_TOO_LARGE");
    await a.send("still fine");
    expect(await b.receive()).toBe("still fine");
  });

  it("refuses an oversized frame on receipt from its header, without buffering it, and closes", async () => {
    const listener = track(await listen(socketPath("big"), { maxMessageSize: 1000 }));
    const client = track(await connect(listener.address, { maxMessageSize: 1_000_000 }));
    const server = track(await listener.accept());
    await client.send(new Uint8Array(5000));
    await expectCode(() => server.receive({ timeout: 5000 }), "ERR_IPC_TOO_LARGE");
    await expectCode(() => client.receive({ timeout: 5000 }), "ERR_IPC_CLOSED");
  });

  it("receive honours timeout and AbortSignal and leaves the connection usable", async () => {
    const [a, b] = Pipe().map(track) as [Connection, Connection];
    await expectCode(() => b.receive({ timeout: 20 }), "ERR_IPC_TIMEOUT");
    const controller = new AbortController();
    const started = Date.now();
    const pending = b.receive({ signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(2000);
    await a.send(42);
    expect(await b.receive()).toBe(42);
    const pre = new AbortController();
    pre.abort();
    await expect(b.receive({ signal: pre.signal })).rejects.toMatchObject({ name: "AbortError" });
  });

  it("tryReceive never waits", async () => {
    const [a, b] = Pipe().map(track) as [Connection, Connection];
    expect(b.tryReceive()).toBeUndefined();
    await a.send("x");
    // Arrival takes a connect (js backend) and a read: poll for it, generously, on a loaded machine.
    let got: unknown;
    for (let i = 0; i < 500 && got === undefined; i++) {
      await new Promise((r) => setTimeout(r, 10));
      got = b.tryReceive();
    }
    expect(got).toBe("x");
    expect(b.tryReceive()).toBeUndefined();
  });

  it("a closed handle gives ERR_IPC_CLOSED; closing twice is harmless; a pending receive is rejected", async () => {
    const [a, b] = Pipe().map(track) as [Connection, Connection];
    const pending = b.receive();
    b.close();
    b.close();
    await expectCode(() => pending, "ERR_IPC_CLOSED");
    await expectCode(() => b.send(1), "ERR_IPC_CLOSED");
    await expectCode(() => b.receive(), "ERR_IPC_CLOSED");
    expect(() => b.tryReceive()).toThrow(/closed/);
    // The peer sees the end: its receive fails with ERR_IPC_CLOSED, its iteration just ends.
    await expectCode(() => a.receive({ timeout: 5000 }), "ERR_IPC_CLOSED");
    const seen: unknown[] = [];
    for await (const v of a) seen.push(v);
    expect(seen).toEqual([]);
  });

  it("refuses bad input before touching a socket", async () => {
    await expectCode(() => Pipe({ codec: "yaml" as never }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Pipe({ maxMessageSize: -1 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Pipe({ maxMessageSize: 1.5 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Pipe({ maxMessageSize: 2 ** 40 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Pipe({ framing: "lines" as never }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Pipe("x" as never), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect(42 as never), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect(""), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect("tcp://host"), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect("tcp://127.0.0.1:70000"), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect("udp://127.0.0.1:5"), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect(`/tmp/${"x".repeat(120)}`), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect("/tmp/a\0b"), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect("/tmp/x.sock", { authKey: 5 as never }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect("/tmp/x.sock", { authKey: "" }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect("/tmp/x.sock", { authKey: "k", framing: "raw" }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => connect("/tmp/x.sock", { timeout: -5 }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Connection.fromFd(-1), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => Connection.fromFd(1.5), "ERR_IPC_INVALID_ARGUMENT");
    const [a] = Pipe().map(track) as [Connection, Connection];
    await expectCode(() => a.send(undefined), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => a.send(() => 1), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => a.receive({ timeout: "soon" as never }), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => a.receive({ signal: {} as never }), "ERR_IPC_INVALID_ARGUMENT");
    expect(() => a.sendSync(1)).toThrow(/not available/);
  });

  it("names a Windows named pipe on Windows only (the code path exists; it cannot run here)", async () => {
    await expectCode(() => connect("\\\\.\\pipe\\ipckit-test"), process.platform === "win32" ? "ERR_IPC_NOT_FOUND" : "ERR_IPC_UNSUPPORTED");
  });

  it("connecting where nobody listens is ERR_IPC_NOT_FOUND; a timeout and an abort are honoured", async () => {
    await expectCode(() => connect(socketPath("none")), "ERR_IPC_NOT_FOUND");
    const pre = new AbortController();
    pre.abort();
    await expect(connect(socketPath("none"), { signal: pre.signal })).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("listen and connect across processes", () => {
  it("echoes over a Unix socket between two processes, and the socket file is 0600", async () => {
    const path = socketPath("echo");
    const server = await startServer(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const conn = track(await connect(path));
    await conn.send("hello");
    expect(await conn.receive()).toBe("HELLO");
    await conn.send({ x: 1 });
    expect(await conn.receive()).toEqual({ echo: { x: 1 } });
    server.child.process.kill();
  });

  it("listens on TCP at 127.0.0.1 unless a host is given, and reports the real port", async () => {
    const listener = track(await listen("tcp://:0"));
    expect(listener.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const result = runFixture("conn-client.mjs", [listener.address, "{}", "over tcp"]);
    const conn = track(await listener.accept({ timeout: 10_000 }));
    expect(await conn.receive()).toBe("over tcp");
    await conn.send("OVER TCP");
    const out = await result;
    expect(out.stdout).toContain('got "OVER TCP"');
  });

  it("a native-backend process and a JS-backend process talk over the same address (wire compatibility)", async () => {
    const path = socketPath("wire");
    const server = await startServer(path, { codec: "msgpack", authKey: "shared" }, { IPCKIT_BACKEND: otherBackend });
    const conn = track(await connect(path, { codec: "msgpack", authKey: "shared" }));
    await conn.send("across backends");
    expect(await conn.receive()).toBe("ACROSS BACKENDS");
    // And the other way round: this process serves, the other backend connects.
    const listener = track(await listen(socketPath("wire2"), { authKey: "k2" }));
    const out = runFixture("conn-client.mjs", [listener.address, JSON.stringify({ authKey: "k2" }), "ping"], { env: { IPCKIT_BACKEND: otherBackend } });
    const peer = track(await listener.accept({ timeout: 10_000 }));
    expect(await peer.receive()).toBe("ping");
    await peer.send("PONG");
    const result = await out;
    expect(result.stdout).toMatch(new RegExp(`got "PONG" ${otherBackend === "js" ? "js" : "native"}`));
    server.child.process.kill();
  });

  it("authKey: the right key passes; a wrong key is refused on both sides and nothing passes", async () => {
    const path = socketPath("auth");
    const server = await startServer(path, { authKey: "secret" });
    const good = track(await connect(path, { authKey: "secret" }));
    await good.send("ok");
    expect(await good.receive()).toBe("OK");
    // Wait for the server's report from before the attempt: it may print before we get our error.
    const refused = server.child.line((l) => l === "refused ERR_IPC_PERMISSION");
    await expectCode(() => connect(path, { authKey: "wrong" }), "ERR_IPC_PERMISSION");
    await refused;
    // A client without a key is told the server wants one; the server refuses it too.
    const refusedAgain = server.child.line((l) => l === "refused ERR_IPC_PERMISSION");
    const keyless = track(await connect(path, { timeout: 5000 }));
    await keyless.send("sneak").catch(() => undefined);
    await expectCode(() => keyless.receive({ timeout: 5000 }), "ERR_IPC_PERMISSION");
    await refusedAgain;
    server.child.process.kill();
  });

  it("a server refuses a client with the wrong key (accept rejects, the listener goes on)", async () => {
    const listener = track(await listen(socketPath("auth2"), { authKey: "right" }));
    const bad = runFixture("conn-client.mjs", [listener.address, JSON.stringify({ authKey: "wrong" }), "x"]);
    await expectCode(() => listener.accept({ timeout: 10_000 }), "ERR_IPC_PERMISSION");
    expect((await bad).stdout).toContain("error ERR_IPC_PERMISSION");
    const good = runFixture("conn-client.mjs", [listener.address, JSON.stringify({ authKey: "right" }), "y"]);
    const conn = track(await listener.accept({ timeout: 10_000 }));
    expect(await conn.receive()).toBe("y");
    await conn.send("Y");
    expect((await good).stdout).toContain('got "Y"');
  });

  it("replaces a stale socket file, never a live server's, never a non-socket", async () => {
    const path = socketPath("stale");
    // A server killed without cleaning up leaves its socket file behind.
    const dead = await startServer(path);
    dead.child.process.kill("SIGKILL");
    await dead.child.exited;
    expect(existsSync(path)).toBe(true);
    const listener = track(await listen(path));
    await expectCode(() => listen(path), "ERR_IPC_EXISTS");
    listener.close();
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, "not a socket");
    await expectCode(() => listen(path), "ERR_IPC_EXISTS");
  });

  it.runIf(process.platform === "linux" && runtime === "node")("listens on a Linux abstract socket (@name; Node only)", async () => {
    const name = `@${uniqueName("ipckit-abs")}`;
    const listener = track(await listen(name));
    expect(listener.address).toBe(name);
    const client = track(await connect(name));
    const server = track(await listener.accept());
    await client.send("abstract");
    expect(await server.receive()).toBe("abstract");
  });

  it.runIf(backend === "js")("the JS backend's Pipe() leaves no socket or directory behind", async () => {
    const before = readdirSync("/tmp").filter((f) => f.startsWith("ipckit-pipe-")).length;
    const pairs = Array.from({ length: 5 }, () => Pipe());
    for (const [a, b] of pairs) {
      await a.send("x");
      expect(await b.receive()).toBe("x");
      a.close();
      b.close();
    }
    expect(readdirSync("/tmp").filter((f) => f.startsWith("ipckit-pipe-")).length).toBeLessThanOrEqual(before);
  });

  it("Listener: accept timeout/abort, close ends iteration and removes the socket file", async () => {
    const listener: Listener = track(await listen(socketPath("lst")));
    await expectCode(() => listener.accept({ timeout: 20 }), "ERR_IPC_TIMEOUT");
    const controller = new AbortController();
    const pending = listener.accept({ signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    const iterating = (async () => {
      const got: Connection[] = [];
      for await (const c of listener) got.push(c);
      return got.length;
    })();
    listener.close();
    expect(await iterating).toBe(0);
    await expectCode(() => listener.accept(), "ERR_IPC_CLOSED");
  });
});

describe("Pipe to a child", () => {
  it("hands one end to a child through a stdio slot; Connection.fromFd continues there", async () => {
    const [command, args] = runtimeCommand(fixturePath("conn-child.mjs"));
    const { child: proc, connection } = await spawnWithConnection(command, args, { stdio: ["ignore", "pipe", "inherit"] });
    cleanup.add(() => proc.kill("SIGKILL"));
    track(connection);
    let out = "";
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    await connection.send("from parent");
    expect(await connection.receive({ timeout: 10_000 })).toBe("FROM PARENT");
    await connection.send([1, 2]);
    expect(await connection.receive({ timeout: 10_000 })).toEqual({ echo: [1, 2], pid: proc.pid });
    connection.close();
    await new Promise((r) => proc.once("exit", r));
    expect(out).toContain("child done");
  });

  it("exposes descriptors on both ends once ready", async () => {
    const [a, b] = Pipe().map(track) as [Connection, Connection];
    await a.ready;
    await b.ready;
    expect(typeof a.fd).toBe("number");
    expect(typeof b.fd).toBe("number");
    expect(a.fd).not.toBe(b.fd);
  });
});

describe("raw framing with peers that do not speak ipckit", () => {
  function python(script: string, args: string[]): Child {
    const proc = spawn("python3", [fixturePath(script), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    const waiters: { p: (l: string) => boolean; r: (l: string) => void }[] = [];
    let pending = "";
    proc.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      pending += d;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) for (const w of [...waiters]) if (w.p(line)) w.r(line);
    });
    const c: Child = {
      process: proc,
      exited: new Promise((resolve) => proc.on("close", (code, signal) => resolve({ code, signal, stdout, stderr: "" }))),
      line: (p = () => true) => new Promise((r) => waiters.push({ p, r })),
    };
    return child(c);
  }

  it("an ipckit raw client works against a plain Python server (TCP and Unix socket)", async () => {
    const tcp = python("plain_echo_server.py", ["tcp"]);
    const address = (await tcp.line((l) => l.startsWith("listening"))).split(" ")[1]!;
    const path = socketPath("py");
    const unix = python("plain_echo_server.py", ["unix", path]);
    await unix.line((l) => l.startsWith("listening"));
    for (const where of [address, path]) {
      const conn = track(await connect(where, { framing: "raw" }));
      expect(conn.framing).toBe("raw");
      // The plain server replies once we stop sending: close our side by sending and ending.
      await conn.send("hello from ipckit");
      const chunks: Uint8Array[] = [];
      conn.end();
      for await (const chunk of conn) chunks.push(chunk as Uint8Array);
      expect(Buffer.concat(chunks).toString()).toBe("HELLO FROM IPCKIT");
    }
  });

  it("an ipckit raw server serves a plain Python client", async () => {
    const listener = track(await listen("tcp://:0", { framing: "raw" }));
    const port = listener.address.split(":").pop()!;
    const client = python("plain_echo_client.py", ["127.0.0.1", port, "plain text"]);
    const conn = track(await listener.accept({ timeout: 10_000 }));
    for await (const chunk of conn) await conn.send(Buffer.from(chunk as Uint8Array).toString().toUpperCase());
    conn.close();
    const out = await client.exited;
    expect(out.stdout).toContain("reply PLAIN TEXT");
  });
});

describe("faults", () => {
  it("a peer that dies mid-frame gives ERR_IPC_CLOSED, never a partial message", async () => {
    const listener = track(await listen(socketPath("mid")));
    const peer = child(spawnFixture("partial-frame.mjs", [listener.address]));
    const conn = track(await listener.accept({ timeout: 10_000 }));
    await peer.exited;
    const error = await expectCode(() => conn.receive({ timeout: 10_000 }), "ERR_IPC_CLOSED");
    expect(error.message).toMatch(/middle of a message/);
  });

  it("garbage on the wire closes that connection with an error and harms no other", async () => {
    const listener = track(await listen(socketPath("junk")));
    const good = track(await connect(listener.address));
    const goodServer = track(await listener.accept());
    const junk = net.connect({ path: listener.address });
    junk.write(Buffer.from([0xff, 0xff, 0xff, 0x00, 1, 2, 3]));
    const junkServer = track(await listener.accept());
    await expectCode(() => junkServer.receive({ timeout: 10_000 }), "ERR_IPC_PROTOCOL");
    await expectCode(() => junkServer.send("x"), "ERR_IPC_PROTOCOL");
    // A huge length is refused from the header alone.
    const huge = net.connect({ path: listener.address });
    huge.write(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
    const hugeServer = track(await listener.accept());
    await expectCode(() => hugeServer.receive({ timeout: 10_000 }), "ERR_IPC_TOO_LARGE");
    await good.send("still here");
    expect(await goodServer.receive()).toBe("still here");
    junk.destroy();
    huge.destroy();
  });

  it.runIf(existsSync("/proc/self/fd"))("1,000 clients connecting and leaving leak no descriptors", async () => {
    const listener = track(await listen(socketPath("many")));
    const serving = (async () => {
      for await (const conn of listener) {
        void (async () => {
          for await (const m of conn) await conn.send(m);
          conn.close();
        })();
      }
    })();
    const round = async (): Promise<void> => {
      const c = await connect(listener.address);
      await c.send(1);
      await c.receive();
      c.close();
    };
    for (let i = 0; i < 20; i++) await round(); // warm up lazily opened runtime descriptors
    await new Promise((r) => setTimeout(r, 200));
    const before = readdirSync("/proc/self/fd").length;
    for (let batch = 0; batch < 20; batch++) await Promise.all(Array.from({ length: 50 }, round));
    let after = Infinity;
    for (let i = 0; i < 50 && after > before; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = readdirSync("/proc/self/fd").length;
    }
    expect(after).toBeLessThanOrEqual(before);
    listener.close();
    await serving;
  }, 120_000);
});
