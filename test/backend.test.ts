import process from "node:process";
import { describe, expect, it } from "vitest";
import { IpcError, SharedMemory, backend, capabilities, diagnostics } from "../dist/index.js";
import { expectCode, runFixture, runtime, uniqueName } from "./helpers.js";

async function report(env: Record<string, string>) {
  const result = await runFixture("backend-report.mjs", [], { env });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout.trim()) as {
    backend?: string;
    diagnostics?: { loadError: string[] | null; backend: string; requested: string };
    error?: { name: string; code: string; message: string };
  };
}

export const BROKEN_BINARY = "/nonexistent/ipckit.linux-x64-gnu.node";

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
