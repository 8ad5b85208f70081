import { IpcError } from "../errors.js";
import { SharedMemory } from "../shared-memory.js";

const REMOVERS: Record<string, (name: string) => void> = {
  shm: (name) => SharedMemory.unlink(name),
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
