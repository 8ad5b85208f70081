// The echo over a FIFO pair: reads lines from the request FIFO, writes them upper-cased to the
// reply FIFO, until the requester closes its end.
//   node examples/echo/fifo-server.js /tmp/requests /tmp/replies
import { Fifo } from "ipckit";

const [requests, replies] = process.argv.slice(2);
const [reader, writer] = await Promise.all([Fifo.openReader(requests), Fifo.openWriter(replies)]);
let pending = "";
for await (const chunk of reader) {
  pending += new TextDecoder().decode(chunk);
  let nl;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    console.log(`fifo server received: ${JSON.stringify(line)}`);
    await writer.write(line.toUpperCase() + "\n");
  }
}
writer.close();
reader.close();
