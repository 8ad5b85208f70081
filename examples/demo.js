// `npm run demo`: the seed's uppercase echo over every transport ipckit has, then what this machine offers.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const steps = [
  ["uppercase echo over Unix socket, TCP, raw mode, Pipe to a child, FIFO pair", [here("echo/run-all.js")]],
  ["uppercase echo over POSIX and SysV message queues", [here("mq-echo.js")]],
  ["uppercase echo through SharedMemory (two processes)", [here("shm-echo.js")]],
  ["ipckit doctor", [here("../dist/cli.js"), "doctor"]],
];

let failed = 0;
for (const [title, argv] of steps) {
  console.log(`\n== ${title}`);
  const result = spawnSync(process.execPath, argv, { stdio: "inherit" });
  if (result.status !== 0) {
    failed++;
    console.log(`!! ${title} failed (exit ${result.status ?? result.signal})`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
