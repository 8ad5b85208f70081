import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { afterEach } from "vitest";

/** A name no other test (or concurrent run) uses: prefix, pid and random bits. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

export const runtime: "node" | "deno" | "bun" =
  (process.versions as Record<string, string | undefined>).bun !== undefined
    ? "bun"
    : (process.versions as Record<string, string | undefined>).deno !== undefined
      ? "deno"
      : "node";

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** The command that runs a fixture script with the runtime running this test. */
export function runtimeCommand(script: string, args: string[] = []): [string, string[]] {
  if (runtime === "deno") return [process.execPath, ["run", "-A", script, ...args]];
  return [process.execPath, [script, ...args]];
}

export interface Child {
  process: ChildProcess;
  /** Resolves with exit code and everything printed once the child exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves with the first stdout line that satisfies the predicate. */
  line(predicate?: (line: string) => boolean): Promise<string>;
}

/** Spawns test/fixtures/<name> in the same runtime (and IPCKIT_BACKEND) as the test. */
export function spawnFixture(name: string, args: string[] = [], options: SpawnOptions = {}): Child {
  const [command, argv] = runtimeCommand(fixturePath(name), args);
  const child = spawn(command, argv, { stdio: ["pipe", "pipe", "pipe"], ...options, env: { ...process.env, ...options.env } });
  let stdout = "";
  let stderr = "";
  const waiters: { predicate: (line: string) => boolean; resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  let pending = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      for (const w of [...waiters]) {
        if (w.predicate(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => {
      child.on("close", (code, signal) => {
        for (const w of waiters.splice(0)) w.reject(new Error(`fixture ${name} exited (${code ?? signal}) first; stderr: ${stderr}`));
        resolve({ code, signal, stdout, stderr });
      });
    },
  );
  return {
    process: child,
    exited,
    line: (predicate = () => true) =>
      new Promise<string>((resolve, reject) => {
        waiters.push({ predicate, resolve, reject });
      }),
  };
}

/** Runs a fixture to completion and returns its exit status and output. */
export function runFixture(name: string, args: string[] = [], options: SpawnOptions = {}) {
  return spawnFixture(name, args, options).exited;
}

/** Expects `fn` to throw an IpcError with `code` (sync or async). */
export async function expectCode(fn: () => unknown, code: string): Promise<Error & { code: string }> {
  let thrown: unknown;
  try {
    await fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error(`expected ${code}, but nothing was thrown`);
  const e = thrown as Error & { code: string };
  if (e.name !== "IpcError" || e.code !== code) {
    throw new Error(`expected IpcError ${code}, got ${e.name} ${e.code}: ${e.message}`);
  }
  return e;
}

/** Undo steps for the current test: `add` them as you make things; they run after it (last first), even if one throws. */
export function cleanupAfterEach(): { add(undo: () => void): void; runAll(): void } {
  const steps: (() => void)[] = [];
  const runAll = (): void => {
    for (const step of steps.splice(0).reverse()) {
      try {
        step();
      } catch {
        // already gone
      }
    }
  };
  afterEach(runAll);
  return { add: (undo) => void steps.push(undo), runAll };
}
