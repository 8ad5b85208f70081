// The far side of every benchmark: echoes messages that start with "R", counts messages that
// start with "T" and answers an "E" with the count (8 bytes).
//   node peer.js ipckit <socket path>   |   node peer.js net <socket path>   |   forked (fork IPC)
import net from "node:net";
import { onFrames, sendFrame } from "./net-framing.js";

const [kind, address] = process.argv.slice(2);
let count = 0;

function handle(message, reply) {
  const tag = message[0];
  if (tag === 0x54) count++;
  else if (tag === 0x52) reply(message);
  else if (tag === 0x45) {
    const out = Buffer.alloc(8);
    out.writeDoubleBE(count);
    count = 0;
    reply(out);
  }
}

if (kind === "ipckit") {
  const { listen } = await import("../../dist/index.js");
  const listener = await listen(address, { codec: "bytes" });
  console.log("ready");
  const connection = await listener.accept();
  for await (const message of connection) handle(message, (m) => connection.send(m));
  listener.close();
} else if (kind === "net") {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    onFrames(socket, (message) => handle(message, (m) => sendFrame(socket, m)));
    socket.on("end", () => server.close());
  });
  server.listen(address, () => console.log("ready"));
} else {
  process.on("message", (message) => {
    const bytes = typeof message === "string" ? Buffer.from(message, "latin1") : Buffer.from(message);
    handle(bytes, (m) => process.send(typeof message === "string" ? m.toString("latin1") : m));
  });
  process.send("ready");
}
