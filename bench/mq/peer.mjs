// Producer for bench/mq/run.mjs: peer.mjs posix|sysv <name-or-key> <size> <count> sync|async
import { MessageQueue, SysVMessageQueue } from "../../dist/index.js";

const [kind, target, sizeText, countText, form] = process.argv.slice(2);
const size = Number(sizeText);
const count = Number(countText);
const payload = new Uint8Array(size).fill(7);
if (kind === "posix") {
  const q = MessageQueue.open(target);
  if (form === "sync") for (let i = 0; i < count; i++) q.sendSync(payload, { priority: i & 7 });
  else for (let i = 0; i < count; i++) await q.send(payload, { priority: i & 7 });
  q.close();
} else {
  const q = SysVMessageQueue.open(Number(target));
  if (form === "sync") for (let i = 0; i < count; i++) q.sendSync(payload);
  else for (let i = 0; i < count; i++) await q.send(payload);
  q.close();
}
