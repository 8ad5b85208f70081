import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import process from "node:process";
import { afterEach, describe, expect, it } from "vitest";
import { MessageQueue, SharedMemory, SysVMessageQueue, backend } from "../dist/index.js";
import { fixturePath, runtimeCommand, uniqueName } from "./helpers.js";

const BROKEN_BINARY = "/nonexistent/ipckit.linux-x64-gnu.node";
const cli = fixturePath("../../dist/cli.js");

function ipckit(args: string[], env: Record<string, string> = {}) {
  const [cmd, argv] = runtimeCommand(cli, args);
  return spawnSync(cmd, argv, { encoding: "utf8", env: { ...process.env, ...env } });
}

describe("ipckit doctor", () => {
  const doctor = (args: string[], env: Record<string, string> = {}) => ipckit(["doctor", ...args], env);

  it("--json reports backend, capabilities and kernel limits with advice where low", () => {
    const r = doctor(["--json"]);
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.backend).toBe(backend);
    expect(json.capabilities.sharedMemory).toBe(backend === "native");
    const names = json.limits.map((l: { name: string }) => l.name);
    expect(names).toEqual(expect.arrayContaining(["/dev/shm size", "POSIX mq messages per queue", "SysV bytes per queue"]));
    for (const l of json.limits) expect(l.low ? typeof l.advice : l.advice).toBe(l.low ? "string" : null);
    const mq = json.limits.find((l: { name: string }) => l.name === "POSIX mq messages per queue");
    expect(mq.value).toBe(Number(readFileSync("/proc/sys/fs/mqueue/msg_max", "utf8")));
  });

  it("prints the load error chain when the binding does not load", () => {
    const r = doctor([], { IPCKIT_BACKEND: "", NAPI_RS_NATIVE_LIBRARY_PATH: BROKEN_BINARY });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/backend: js/);
    expect(r.stdout).toMatch(/did not load/);
    expect(r.stdout).toMatch(/kernel limits:/);
  });

});

describe("ipckit", () => {
  it("an unknown command exits 2 with usage", () => {
    const r = ipckit(["frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: ipckit/);
  });

  it("rm without a kind or name exits 2 with usage", () => {
    expect(ipckit(["rm"]).status).toBe(2);
    expect(ipckit(["rm", "shm"]).status).toBe(2);
  });
});

describe.runIf(backend === "native")("ipckit ls and rm", () => {
  const made: string[] = [];
  afterEach(() => {
    for (const n of made.splice(0)) rmSync(`/dev/shm/${n}`, { force: true });
  });

  it("ls shows a segment with the live processes mapping it; rm removes it", () => {
    const n = uniqueName("ipckit-ls").slice(0, 30);
    made.push(n);
    const shm = SharedMemory.create(n, { size: 12345, mode: 0o640 });
    void shm.buffer; // mapped by this process
    const listed = JSON.parse(ipckit(["ls", "--json"]).stdout).objects.find((o: { name: string }) => o.name === `/${n}`);
    expect(listed).toMatchObject({ kind: "shm", size: 12345, mode: 0o640, inUse: true });
    expect(listed.pids).toContain(process.pid);
    shm.close();
    const text = ipckit(["ls"]).stdout;
    expect(text).toMatch(new RegExp(`shm\\s+/${n}\\s+12345\\s+0640`));
    const removed = ipckit(["rm", "shm", n]);
    expect(removed.status).toBe(0);
    expect(existsSync(`/dev/shm/${n}`)).toBe(false);
    const again = ipckit(["rm", "shm", n]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/ERR_IPC_NOT_FOUND/);
  });

  it("ls shows a SysV queue with its bytes; rm sysv removes it by the key ls prints", () => {
    const key = 0x1c000000 + Math.floor(Math.random() * 0xffffff);
    const q = SysVMessageQueue.open(key, { create: true, exclusive: true });
    try {
      q.trySend("hello", { type: 3 });
      const hex = `0x${key.toString(16).padStart(8, "0")}`;
      const listed = JSON.parse(ipckit(["ls", "--json"]).stdout).objects.find((o: { name: string }) => o.name === hex);
      expect(listed).toMatchObject({ kind: "sysv", size: 5, mode: 0o600, inUse: true });
      expect(listed.pids).toContain(process.pid);
      expect(ipckit(["rm", "sysv", hex]).status).toBe(0);
      expect(() => q.trySend("x")).toThrow(expect.objectContaining({ code: "ERR_IPC_NOT_FOUND" }));
    } catch (error) {
      try {
        q.remove();
      } catch {
        // already removed by the command under test
      }
      throw error;
    } finally {
      q.close();
    }
  });

  it("rm mq unlinks a POSIX queue", () => {
    const n = uniqueName("ipckit-rm-mq").slice(0, 30);
    const q = MessageQueue.open(n, { create: true, maxMessages: 2, messageSize: 64 });
    q.close();
    expect(ipckit(["rm", "mq", n]).status).toBe(0);
    expect(() => MessageQueue.open(n)).toThrow(expect.objectContaining({ code: "ERR_IPC_NOT_FOUND" }));
    expect(ipckit(["rm", "mq", n]).status).toBe(1);
  });
});
