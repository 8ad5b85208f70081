// ESM consumer: `import` resolves ipckit's "import" condition (dist/index.js).
import { fileURLToPath } from "node:url";
import * as ipc from "ipckit";
import checks from "./checks.cjs";

await checks.main(ipc, fileURLToPath(import.meta.url), `esm ${import.meta.resolve("ipckit")}`);
