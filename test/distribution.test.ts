import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PLATFORM_PACKAGES } from "../dist/loader.js";
import { backend, diagnostics } from "../dist/index.js";
import { fixturePath, runFixture } from "./helpers.js";

interface Report {
  backend?: string;
  cjsBackend?: string;
  sameExports?: boolean;
  diagnostics?: {
    backend: string;
    problem: string | null;
    platformPackage: string | null;
    packageVersion: string;
    externalBuffers: boolean | null;
    capabilities: Record<string, boolean>;
  };
  sharedMemory?: "ok" | { code: string; message: string };
  error?: { name: string; code: string; message: string };
}

const root = fixturePath("../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
  napi: { targets: string[] };
};
// The binary of this platform as the development build places it (dist/native/ipckit.<suffix>.node).
const suffix = diagnostics().platformPackage?.slice("ipckit-".length);
const binary = join(root, `dist/native/ipckit.${suffix}.node`);
const scratch = mkdtempSync(join(tmpdir(), "ipckit-dist-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function loadReport(env: Record<string, string>) {
  const result = await runFixture("load-report.mjs", [], { env });
  expect(result.code).toBe(0);
  return { report: JSON.parse(result.stdout.trim()) as Report, stderr: result.stderr };
}

function warnings(stderr: string): number {
  return stderr.split("IPCKIT_NO_NATIVE_BINDING").length - 1;
}

/** napi-rs's suffix for a target triple: x86_64-unknown-linux-gnu -> linux-x64-gnu. */
function suffixOf(triple: string): string {
  const [arch, , os, abi] = triple.split("-");
  const cpu = arch === "x86_64" ? "x64" : arch === "aarch64" ? "arm64" : arch;
  return os === "darwin" ? `darwin-${cpu}` : `${os}-${cpu}-${abi}`;
}

describe("platform packages", () => {
  it("the facade knows exactly the packages generated under npm/ for the napi targets", () => {
    const dirs = readdirSync(join(root, "npm")).sort();
    expect([...PLATFORM_PACKAGES].sort()).toEqual(dirs);
    expect(pkg.napi.targets.map(suffixOf).sort()).toEqual(dirs);
    for (const dir of dirs) {
      const p = JSON.parse(readFileSync(join(root, "npm", dir, "package.json"), "utf8"));
      expect(p.name).toBe(`ipckit-${dir}`);
      expect(p.version).toBe(pkg.version);
      expect(p.main).toBe(`ipckit.${dir}.node`);
    }
  });

  it("the root lists no optionalDependencies (napi prepublish writes them at release) and ships no binary", () => {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(manifest.optionalDependencies).toBeUndefined();
    expect(manifest.files).toEqual(["dist", "!dist/**/*.node"]);
  });

  it("the crate and the package carry the same version (the loaded binary is checked against it)", () => {
    const cargo = readFileSync(join(root, "crate/Cargo.toml"), "utf8");
    expect(cargo.match(/^version = "(.*)"$/m)?.[1]).toBe(pkg.version);
  });
});

describe("both entry points", () => {
  it("import and require give the same exports, one backend, and at most one warning", async () => {
    const { report, stderr } = await loadReport({});
    expect(report.backend).toBe(backend);
    expect(report.cjsBackend).toBe(backend);
    expect(report.sameExports).toBe(true);
    expect(warnings(stderr)).toBe(0);
  });
});

describe.runIf(backend === "native" && suffix !== undefined)("loader", () => {
  it("honours NAPI_RS_NATIVE_LIBRARY_PATH", async () => {
    const moved = join(scratch, "moved.node");
    copyFileSync(binary, moved);
    const { report, stderr } = await loadReport({ NAPI_RS_NATIVE_LIBRARY_PATH: moved });
    expect(report.backend).toBe("native");
    expect(report.sharedMemory).toBe("ok");
    expect(warnings(stderr)).toBe(0);
  });

  it("falls back once, with one warning naming the override that failed", async () => {
    const { report, stderr } = await loadReport({ NAPI_RS_NATIVE_LIBRARY_PATH: join(scratch, "missing.node") });
    expect(report.backend).toBe("js");
    expect(report.cjsBackend).toBe("js");
    expect(report.diagnostics?.problem).toMatch(/NAPI_RS_NATIVE_LIBRARY_PATH=.*missing\.node did not load/);
    expect(warnings(stderr)).toBe(1);
    expect(report.sharedMemory).toMatchObject({ code: "ERR_IPC_UNSUPPORTED" });
  });

  it("refuses a binding from another release: js backend with a warning, or an error when native is forced", async () => {
    const fake = join(scratch, "other-release.cjs");
    writeFileSync(fake, `module.exports = { ...require(${JSON.stringify(binary)}), bindingVersion: () => "9.9.9" };\n`);
    const auto = await loadReport({ NAPI_RS_NATIVE_LIBRARY_PATH: fake });
    expect(auto.report.backend).toBe("js");
    expect(auto.report.diagnostics?.problem).toContain(`native binding is version 9.9.9 but ipckit is ${pkg.version}`);
    expect(warnings(auto.stderr)).toBe(1);
    const forced = await loadReport({ NAPI_RS_NATIVE_LIBRARY_PATH: fake, IPCKIT_BACKEND: "native" });
    expect(forced.report.error?.code).toBe("ERR_IPC_UNSUPPORTED");
    expect(forced.report.error?.message).toMatch(/IPCKIT_BACKEND=native .*version 9\.9\.9/);
  });

  it("IPCKIT_BACKEND=js never warns", async () => {
    const { report, stderr } = await loadReport({ IPCKIT_BACKEND: "js", NAPI_RS_NATIVE_LIBRARY_PATH: join(scratch, "missing.node") });
    expect(report.backend).toBe("js");
    expect(warnings(stderr)).toBe(0);
  });
});

describe.runIf(backend === "native")("runtimes that forbid external ArrayBuffers (Electron >= 21, V8 sandbox)", () => {
  // No such runtime runs here: IPCKIT_TEST_FORBID_EXTERNAL_BUFFERS makes the Rust glue see the
  // status napi returns under a sandbox (napi_no_external_buffers_allowed) at the one place it is read.
  const FORBID = { IPCKIT_TEST_FORBID_EXTERNAL_BUFFERS: "1" };

  it("are not detected where external buffers work (this runtime)", async () => {
    const { report } = await loadReport({});
    expect(report.diagnostics?.externalBuffers).toBe(true);
    const below = JSON.parse((await runFixture("binding-buffer.mjs")).stdout.trim());
    expect(below).toEqual({ ok: 16, allowed: true });
  });

  it("turn SharedMemory off in capabilities, and refuse it with ERR_IPC_UNSUPPORTED instead of copying", async () => {
    const { report } = await loadReport(FORBID);
    expect(report.backend).toBe("native");
    expect(report.diagnostics?.externalBuffers).toBe(false);
    expect(report.diagnostics?.capabilities.sharedMemory).toBe(false);
    // Everything built on shared memory goes with it; the rest of the native backend stays.
    for (const feature of ["channel", "queue", "sync"]) expect(report.diagnostics?.capabilities[feature]).toBe(false);
    expect(report.diagnostics?.capabilities.connection).toBe(true);
    expect(report.sharedMemory).toMatchObject({ code: "ERR_IPC_UNSUPPORTED" });
    expect((report.sharedMemory as { message: string }).message).toMatch(/forbids external ArrayBuffers/);
  });

  it("make the glue itself refuse a buffer rather than hand out a copy", async () => {
    const below = JSON.parse((await runFixture("binding-buffer.mjs", [], { env: FORBID })).stdout.trim());
    expect(below.allowed).toBe(false);
    expect(below.error).toMatch(/^ERR_IPC_UNSUPPORTED\u001f.*Electron/);
  });
});
