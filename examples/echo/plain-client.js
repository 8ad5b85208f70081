// A client that knows nothing of ipckit (node:net only, like the original seed client or nc):
// sends text, half-closes, prints what comes back. Talks to `server.js <address> --raw`.
//   node examples/echo/plain-client.js /tmp/raw.sock "plain text"
import net from "node:net";

const [address, text = "plain hello"] = process.argv.slice(2);
const socket = net.connect(address.startsWith("tcp://") ? { host: "127.0.0.1", port: Number(address.split(":").pop()) } : { path: address });
let reply = "";
socket.setEncoding("utf8").on("data", (chunk) => (reply += chunk));
socket.on("end", () => console.log(`plain client received: ${JSON.stringify(reply)}`));
socket.end(text);
