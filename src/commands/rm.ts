import { IpcError, invalidArgument } from "../errors.js";
import { MessageQueue } from "../message-queue.js";
import { SharedMemory } from "../shared-memory.js";
import { SysVMessageQueue } from "../sysv-queue.js";

/** A SysV key as `ipckit ls` prints it (0x hex) or in decimal. */
function sysvKey(text: string): number {
  const key = Number(text);
  if (!Number.isInteger(key)) throw invalidArgument(`${JSON.stringify(text)} is not a SysV key (0x1234abcd or decimal)`);
  return key;
}

const REMOVERS: Record<string, (name: string) => void> = {
  shm: (name) => SharedMemory.unlink(name),
  mq: (name) => MessageQueue.unlink(name),
  sysv: (name) => {
    const queue = SysVMessageQueue.open(sysvKey(name));
    try {
      queue.remove();
    } finally {
      queue.close();
    }
  },
};

/** `ipckit rm <kind> <name>...`: removes named objects; processes using them keep what they have open. */
export function runRm(args: readonly string[]): number {
  const [kind, ...names] = args;
  const remove = kind === undefined ? undefined : REMOVERS[kind];
  if (remove === undefined || names.length === 0) {
    console.error(`usage: ipckit rm <${Object.keys(REMOVERS).join("|")}> <name>...`);
    return 2;
  }
  let failed = 0;
  for (const name of names) {
    try {
      remove(name);
      console.log(`removed ${kind} ${name}`);
    } catch (error) {
      failed++;
      console.error(`ipckit rm: ${kind} ${name}: ${error instanceof IpcError ? `${error.code}: ${error.message}` : String(error)}`);
    }
  }
  return failed === 0 ? 0 : 1;
}
