// Long crash-safety soak for Channel: the suite's trial (test/fixtures/channel-crash-chaos.mjs)
// with many more SIGKILLs, repeated.   node bench/channel/crash-soak.mjs [kills per round=1000] [rounds=3]
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chaos } from "../../test/fixtures/channel-crash-chaos.mjs";

const kills = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 3);
const fixture = fileURLToPath(new URL("../../test/fixtures/channel-crash.mjs", import.meta.url));

function spawnChild(args) {
  const child = spawn(process.execPath, [fixture, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c) => (stderr += c));
  const ready = new Promise((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (c) => c.includes("ready") && resolve());
    child.on("close", () => reject(new Error("exited before ready")));
  });
  const exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr })));
  return { kill: () => child.kill("SIGKILL"), ready, exited };
}

for (let round = 1; round <= rounds; round++) {
  const started = Date.now();
  const report = await chaos({
    kills,
    spawn: spawnChild,
    channelName: `ipckit-soak-${process.pid}-${round}`,
    progressName: `ipckit-soakp-${process.pid}-${round}`,
  });
  console.log(`round ${round}: ${JSON.stringify(report)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
console.log("soak passed");
