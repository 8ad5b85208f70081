import process from "node:process";
import { describe, expect, it } from "vitest";
import { IpcError, SharedMemory, backend, capabilities, diagnostics } from "../dist/index.js";
import { expectCode, fixturePath, runFixture, runtime, runtimeCommand, uniqueName } from "./helpers.js";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

async function report(env: Record<string, string>) {
  const result = await runFixture("backend-report.mjs", [], { env });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout.trim()) as {
    backend?: string;
    diagnostics?: { loadError: string[] | null; backend: string; requested: string };
    error?: { name: string; code: string; message: string };
  };
}

const BROKEN_BINARY = "/nonexistent/ipckit.linux-x64-gnu.node";

describe("backend selection", () => {
  it("follows IPCKIT_BACKEND", () => {
    expect(backend).toBe(process.env.IPCKIT_BACKEND === "js" ? "js" : "native");
    const d = diagnostics();
    expect(d.backend).toBe(backend);
    expect(d.requested).toBe(process.env.IPCKIT_BACKEND === "js" ? "js" : "auto");
    expect(d.runtime.startsWith(runtime)).toBe(true);
    expect(d.capabilities).toBe(capabilities);
    expect(Object.isFrozen(capabilities)).toBe(true);
    if (backend === "native") expect(d.bindingVersion).toMatch(/^\d+\.\d+\.\d+/);
    else expect(d.bindingVersion).toBeNull();
  });

  it("falls back to the js backend when the binding cannot load, and says why", async () => {
    const r = await report({ IPCKIT_BACKEND: "", NAPI_RS_NATIVE_LIBRARY_PATH: BROKEN_BINARY });
    expect(r.backend).toBe("js");
    expect(r.diagnostics?.loadError?.join(" ")).toMatch(/nonexistent|Cannot find|not found|No such/i);
  });

  it("IPCKIT_BACKEND=native turns a load failure into ERR_IPC_UNSUPPORTED", async () => {
    const r = await report({ IPCKIT_BACKEND: "native", NAPI_RS_NATIVE_LIBRARY_PATH: BROKEN_BINARY });
    expect(r.error?.name).toBe("IpcError");
    expect(r.error?.code).toBe("ERR_IPC_UNSUPPORTED");
    expect(r.error?.message).toMatch(/IPCKIT_BACKEND=native/);
  });

  it("refuses an unknown IPCKIT_BACKEND value", async () => {
    const r = await report({ IPCKIT_BACKEND: "fast" });
    expect(r.error?.code).toBe("ERR_IPC_INVALID_ARGUMENT");
  });
});

describe.runIf(backend === "native")("native errors", () => {
  it("keep the OS errno and syscall", async () => {
    const e = await expectCode(() => SharedMemory.open(uniqueName("ipckit-none").slice(0, 30)), "ERR_IPC_NOT_FOUND");
    expect(e).toBeInstanceOf(IpcError);
    expect((e as IpcError).errno).toBe(2);
    expect((e as IpcError).syscall).toBe("shm_open");
  });
});

describe("ipckit doctor", () => {
  const cli = fixturePath("../../dist/cli.js");

  function doctor(args: string[], env: Record<string, string> = {}) {
    const [cmd, argv] = runtimeCommand(cli, ["doctor", ...args]);
    return spawnSync(cmd, argv, { encoding: "utf8", env: { ...process.env, ...env } });
  }

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

  it("an unknown command exits 2 with usage", () => {
    const [cmd, argv] = runtimeCommand(cli, ["frobnicate"]);
    const r = spawnSync(cmd, argv, { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: ipckit/);
  });
});
