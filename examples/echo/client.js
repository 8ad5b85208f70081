// The seed's client: sends each argument, prints the upper-cased reply.
//   node examples/echo/client.js /tmp/echo.sock hello world
import { connect } from "ipckit";

const [address = "/tmp/ipckit-echo.sock", ...words] = process.argv.slice(2);
const connection = await connect(address);
for (const word of words.length > 0 ? words : ["hello"]) {
  await connection.send(word);
  console.log(`client received: ${JSON.stringify(await connection.receive())}`);
}
connection.close();
