// CommonJS consumer: `require` resolves ipckit's "require" condition (dist/cjs/index.js).
const ipc = require("ipckit");
const { main } = require("./checks.cjs");

main(ipc, __filename, `cjs ${require.resolve("ipckit")}`).catch((error) => {
  console.error(error);
  process.exit(1);
});
