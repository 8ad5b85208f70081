import { execFileSync, spawnSync } from "node:child_process";
import { afterAll } from "vitest";
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixturePath } from "./helpers.js";

const built = new Map<string, string>();
const dir = join(tmpdir(), `ipckit-cc-${process.pid}`);
// Vitest ends its workers without an "exit" event, so the programs go when the importing file's tests end.
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Compiles test/fixtures/<source> with the system C compiler (once per test file) and returns
 * the executable. A missing compiler fails the test with a clear message: CI has gcc.
 */
export function compileC(source: string, libs: string[] = []): string {
  const cached = built.get(source);
  if (cached !== undefined) return cached;
  const probe = spawnSync("cc", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`interop tests need a C compiler on PATH as "cc" (install gcc or clang): ${String(probe.error ?? probe.stderr)}`);
  }
  mkdirSync(dir, { recursive: true });
  const out = join(dir, source.replace(/\.c$/, ""));
  execFileSync("cc", ["-O2", "-Wall", "-o", out, fixturePath(source), ...libs], { stdio: "pipe" });
  built.set(source, out);
  return out;
}

/** Runs a compiled program to completion; throws with its stderr when it fails. */
export function runProgram(path: string, args: string[]): string {
  const result = spawnSync(path, args, { encoding: "utf8", timeout: 20_000 });
  if (result.status !== 0) throw new Error(`${path} ${args.join(" ")} failed (${result.status ?? result.signal}): ${result.stderr}`);
  return result.stdout;
}
