// The uppercase echo over the kernel's message queues, server and client in two processes:
//   POSIX: requests on one queue, replies on another (priorities preserved);
//   SysV: one queue both ways, the classic pattern — requests have type 1, each reply has the
//   requesting client's pid as its type, so many clients can share one queue.
//   node examples/mq-echo.js
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MessageQueue, SysVMessageQueue, capabilities } from "ipckit";

const WORDS = ["hello", "message queues"];
const decode = (data) => new TextDecoder().decode(data);

function server(kind, name) {
  if (kind === "posix") {
    const requests = MessageQueue.open(`${name}-rq`);
    const replies = MessageQueue.open(`${name}-rp`);
    for (let i = 0; i < WORDS.length; i++) {
      const { data, priority } = requests.receiveSync({ timeout: 10_000 });
      console.log(`  [server] received ${JSON.stringify(decode(data))} (priority ${priority})`);
      replies.sendSync(decode(data).toUpperCase(), { priority });
    }
    requests.close();
    replies.close();
  } else {
    const queue = SysVMessageQueue.open(Number(name));
    for (let i = 0; i < WORDS.length; i++) {
      const { data } = queue.receiveSync({ type: 1, timeout: 10_000 });
      const [pid, text] = decode(data).split(":");
      console.log(`  [server] received ${JSON.stringify(text)} from pid ${pid}`);
      queue.sendSync(text.toUpperCase(), { type: Number(pid) });
    }
    queue.close();
  }
}

async function client(kind) {
  const name = kind === "posix" ? `ipckit-echo-${process.pid}` : String(0x1e000000 + (process.pid & 0xffffff));
  const queues =
    kind === "posix"
      ? [
          MessageQueue.open(`${name}-rq`, { create: true, exclusive: true, maxMessages: 4, messageSize: 256 }),
          MessageQueue.open(`${name}-rp`, { create: true, exclusive: true, maxMessages: 4, messageSize: 256 }),
        ]
      : [SysVMessageQueue.open(Number(name), { create: true, exclusive: true })];
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--server", kind, name], { stdio: "inherit" });
  try {
    for (const [i, word] of WORDS.entries()) {
      let reply;
      if (kind === "posix") {
        await queues[0].send(word, { priority: i + 1 });
        reply = await queues[1].receive({ timeout: 10_000 });
      } else {
        await queues[0].send(`${process.pid}:${word}`, { type: 1 });
        reply = await queues[0].receive({ type: process.pid, timeout: 10_000 });
      }
      console.log(`  [client] received ${JSON.stringify(decode(reply.data))}`);
    }
    await new Promise((resolve) => child.on("exit", resolve));
  } finally {
    for (const q of queues) {
      if (kind === "posix") q.unlink();
      else q.remove();
      q.close();
    }
  }
}

if (process.argv[2] === "--server") {
  server(process.argv[3], process.argv[4]);
} else {
  for (const [kind, title, available] of [
    ["posix", "POSIX MessageQueue (requests and replies on two queues)", capabilities.messageQueue],
    ["sysv", "SysVMessageQueue (one queue, replies typed by the client's pid)", capabilities.sysvMessageQueue],
  ]) {
    console.log(title);
    if (available) await client(kind);
    else console.log("  not available here (see `ipckit doctor`)");
  }
}
