import { describe, expect, it } from "vitest";
import { backend } from "../dist/index.js";
import { spawnFixture, uniqueName } from "./helpers.js";
// A plain .mjs helper, shared with bench/channel/crash-soak.mjs.
import { chaos } from "./fixtures/channel-crash-chaos.mjs";

const KILLS = Number(process.env.IPCKIT_CRASH_KILLS ?? 200);

describe.runIf(backend === "native")("Channel crash safety (native)", () => {
  it(
    `survives ${KILLS} SIGKILLs of senders and receivers at random moments`,
    async () => {
      const report = (await chaos({
        kills: KILLS,
        channelName: uniqueName("ipckit-crash").slice(0, 30),
        progressName: uniqueName("ipckit-crashp").slice(0, 30),
        spawn: (args: string[]) => {
          const child = spawnFixture("channel-crash.mjs", args);
          return {
            kill: () => child.process.kill("SIGKILL"),
            ready: child.line((l) => l === "ready"),
            exited: child.exited,
          };
        },
      })) as { kills: number; delivered: number; missing: number; killedReceivers: number };
      expect(report.kills).toBeGreaterThanOrEqual(KILLS);
      expect(report.delivered).toBeGreaterThan(0);
      expect(report.missing).toBeLessThanOrEqual(report.killedReceivers);
    },
    300_000,
  );
});
