// Runs the uppercase echo over every transport, each server in its own process, and prints what
// each side received:  node examples/echo/run-all.js   (npm run demo runs it too)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ipckit from "ipckit";

const { Fifo, backend, capabilities, connect, spawnWithConnection } = ipckit;
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const dir = mkdtempSync("/tmp/ipckit-echo-");

/** Starts a script, relays its output with a label, resolves with it once `ready` is printed. */
function start(label, script, args, ready) {
  const child = spawn(process.execPath, [here(script), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      buffer += chunk;
      for (let nl; (nl = buffer.indexOf("\n")) >= 0; buffer = buffer.slice(nl + 1)) {
        const line = buffer.slice(0, nl);
        console.log(`  [${label}] ${line}`);
        if (ready !== undefined && line.startsWith(ready)) resolve({ child, line });
      }
    });
    child.on("error", reject);
    child.on("exit", () => resolve({ child, line: "" }));
  });
}

async function overSocket(title, address, options = {}) {
  console.log(`${title}`);
  const flags = options.authKey === undefined ? [] : ["--key", options.authKey];
  const { child, line } = await start("server", "server.js", [address, ...flags], "listening");
  const connection = await connect(line.split(" ")[1], options);
  for (const word of ["hello", "ipckit"]) {
    await connection.send(word);
    console.log(`  [client] client received: ${JSON.stringify(await connection.receive())}`);
  }
  connection.close();
  await new Promise((r) => setTimeout(r, 50));
  child.kill();
}

async function rawMode() {
  console.log("Unix socket, raw mode, with a plain node:net client (no ipckit)");
  const address = join(dir, "raw.sock");
  const { child } = await start("server", "server.js", [address, "--raw"], "listening");
  await start("plain client", "plain-client.js", [address, "plain hello"]);
  child.kill();
}

async function pipeToChild() {
  console.log("Pipe() to a child process (one end in the child's stdio slot 3)");
  const { child, connection } = await spawnWithConnection(process.execPath, [here("pipe-child.js")], { stdio: ["ignore", "pipe", "inherit"] });
  child.stdout.setEncoding("utf8").on("data", (text) => {
    for (const line of text.trim().split("\n")) console.log(`  [child] ${line}`);
  });
  for (const word of ["from", "parent"]) {
    await connection.send(word);
    console.log(`  [parent] parent received: ${JSON.stringify(await connection.receive())}`);
  }
  connection.close();
  await new Promise((r) => child.once("exit", r));
}

async function fifoPair() {
  console.log("FIFO pair (requests and replies)");
  const requests = join(dir, "requests");
  const replies = join(dir, "replies");
  Fifo.create(requests);
  Fifo.create(replies);
  const server = start("server", "fifo-server.js", [requests, replies]);
  const [writer, reader] = await Promise.all([Fifo.openWriter(requests), Fifo.openReader(replies)]);
  await writer.write("hello\nfifo\n");
  writer.close();
  let text = "";
  for await (const chunk of reader) text += new TextDecoder().decode(chunk);
  for (const line of text.trim().split("\n")) console.log(`  [client] client received: ${JSON.stringify(line)}`);
  reader.close();
  await server;
}

async function channel() {
  if (typeof ipckit.Channel !== "function" || !capabilities.channel) {
    console.log("Channel: not available in this build yet (shared-memory ring, another issue)");
    return;
  }
  console.log("Channel: see examples/channel (added with Channel)");
}

console.log(`ipckit uppercase echo, backend: ${backend}\n`);
try {
  await overSocket("Unix socket", join(dir, "echo.sock"));
  await overSocket("TCP (127.0.0.1, any free port)", "tcp://:0");
  await overSocket("Unix socket with authKey", join(dir, "auth.sock"), { authKey: "s3cret" });
  await rawMode();
  await pipeToChild();
  if (capabilities.fifo) await fifoPair();
  else console.log("FIFO pair: not on this platform");
  await channel();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
