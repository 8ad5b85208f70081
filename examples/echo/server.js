// The seed's uppercase echo server, over any ipckit address:
//   node examples/echo/server.js /tmp/echo.sock          (Unix socket)
//   node examples/echo/server.js tcp://:7000             (TCP on 127.0.0.1)
//   node examples/echo/server.js /tmp/raw.sock --raw     (plain byte stream, for nc or any client)
//   node examples/echo/server.js /tmp/echo.sock --key s3cret   (clients must know the key)
import { listen } from "ipckit";

const [address = "/tmp/ipckit-echo.sock", ...flags] = process.argv.slice(2);
const raw = flags.includes("--raw");
const key = flags.includes("--key") ? flags[flags.indexOf("--key") + 1] : undefined;
const listener = await listen(address, raw ? { framing: "raw" } : { authKey: key });
console.log(`listening ${listener.address}${raw ? " (raw)" : ""}`);

const text = (value) => (typeof value === "string" ? value : new TextDecoder().decode(value));

for await (const connection of listener) {
  (async () => {
    for await (const message of connection) {
      console.log(`server received: ${JSON.stringify(text(message))}`);
      await connection.send(text(message).toUpperCase());
    }
    connection.close();
  })().catch((error) => console.error(`server: ${error.message}`));
}
