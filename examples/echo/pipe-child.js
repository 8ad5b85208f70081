// The server side of the Pipe example: a child that inherited one end of a Pipe (stdio slot 3,
// named by IPCKIT_FD) and echoes upper-cased until the parent closes its end.
import { Connection } from "ipckit";

const connection = Connection.fromFd(Number(process.env.IPCKIT_FD));
for await (const message of connection) {
  console.log(`child received: ${JSON.stringify(message)}`);
  await connection.send(String(message).toUpperCase());
}
connection.close();
