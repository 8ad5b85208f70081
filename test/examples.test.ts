import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { describe, expect, it } from "vitest";
import { backend } from "../dist/index.js";
import { runtime } from "./helpers.js";

// The examples are Node programs (they spawn `process.execPath` children), run here as a newcomer would.
function example(file: string) {
  const path = fileURLToPath(new URL(`../examples/${file}`, import.meta.url));
  return spawnSync("node", [path], { encoding: "utf8", env: process.env, timeout: 60_000 });
}

describe.runIf(runtime === "node")("examples", () => {
  it("echo/run-all.js: the uppercase echo over every socket transport and a FIFO pair", () => {
    const r = example("echo/run-all.js");
    expect(r.status).toBe(0);
    for (const reply of ['client received: "HELLO"', 'plain client received: "PLAIN HELLO"', 'parent received: "FROM"']) {
      expect(r.stdout).toContain(reply);
    }
  });

  it("mq-echo.js: the uppercase echo over POSIX and SysV queues, or a clear 'not available'", () => {
    const r = example("mq-echo.js");
    expect(r.status).toBe(0);
    if (backend === "native") expect(r.stdout.match(/\[client\] received "MESSAGE QUEUES"/g)).toHaveLength(2);
    else expect(r.stdout).toContain("not available here");
  });

  it.runIf(backend === "native")("shm-echo.js: the uppercase echo through shared memory", () => {
    const r = example("shm-echo.js");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('parent received "HELLO FROM SHARED MEMORY"');
  });
});
