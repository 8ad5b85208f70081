import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import process from "node:process";

/** An IPC object found in the kernel's namespaces, and which live processes use it. */
export interface IpcObject {
  kind: "shm" | "mq" | "sysv";
  /** `/name` for POSIX objects, the key (hex) for SysV queues. */
  name: string;
  size: number;
  uid: number;
  mode: number;
  /** Live processes that map it (shm), hold it open (mq), or last sent or received on it (sysv). */
  pids: number[];
  /** Whether any process that used it is still running. */
  inUse: boolean;
}

function processIds(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

function isAlive(pid: number): boolean {
  return pid > 0 && existsSync(`/proc/${pid}`);
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return ""; // the process ended, or is not ours to read
  }
}

/** For every /dev/shm file some process maps, the pids that map it. */
function shmMappers(): Map<string, Set<number>> {
  const users = new Map<string, Set<number>>();
  for (const pid of processIds()) {
    for (const line of readOrEmpty(`/proc/${pid}/maps`).split("\n")) {
      const at = line.indexOf(" /dev/shm/");
      if (at < 0) continue;
      const path = line.slice(at + 1).replace(/ \(deleted\)$/, "");
      if (!users.has(path)) users.set(path, new Set());
      users.get(path)?.add(pid);
    }
  }
  return users;
}

/** For every POSIX queue some process holds open, the pids that hold it (needs /dev/mqueue mounted to name them). */
function mqHolders(): Map<string, Set<number>> {
  const holders = new Map<string, Set<number>>();
  for (const pid of processIds()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!target.startsWith("/") || !readOrEmpty(`/proc/${pid}/fdinfo/${fd}`).includes("QSIZE")) continue;
      if (!holders.has(target)) holders.set(target, new Set());
      holders.get(target)?.add(pid);
    }
  }
  return holders;
}

function listShm(): IpcObject[] {
  const mappers = shmMappers();
  const objects: IpcObject[] = [];
  for (const entry of readdirSync("/dev/shm")) {
    const path = `/dev/shm/${entry}`;
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const pids = [...(mappers.get(path) ?? [])].sort((a, b) => a - b);
    objects.push({ kind: "shm", name: `/${entry}`, size: st.size, uid: st.uid, mode: st.mode & 0o777, pids, inUse: pids.length > 0 });
  }
  return objects;
}

function listMq(): IpcObject[] {
  if (!existsSync("/dev/mqueue")) return [];
  const holders = mqHolders();
  return readdirSync("/dev/mqueue").flatMap((entry) => {
    try {
      const st = statSync(`/dev/mqueue/${entry}`);
      const pids = [...(holders.get(`/${entry}`) ?? [])].sort((a, b) => a - b);
      const size = Number(/QSIZE:(\d+)/.exec(readOrEmpty(`/dev/mqueue/${entry}`))?.[1] ?? 0);
      return [{ kind: "mq" as const, name: `/${entry}`, size, uid: st.uid, mode: st.mode & 0o777, pids, inUse: pids.length > 0 }];
    } catch {
      return [];
    }
  });
}

function listSysv(): IpcObject[] {
  const rows = readOrEmpty("/proc/sysvipc/msg").trim().split("\n").slice(1);
  return rows.flatMap((row) => {
    // perms is printed in octal; every other column in decimal.
    const [keyText, , permsText, bytesText, , lspidText, lrpidText, uidText] = row.trim().split(/\s+/);
    if (keyText === undefined || permsText === undefined || uidText === undefined) return [];
    const live = [Number(lspidText), Number(lrpidText)].filter((p, i, all) => p > 0 && all.indexOf(p) === i && isAlive(p));
    const name = `0x${(Number(keyText) >>> 0).toString(16).padStart(8, "0")}`;
    const mode = parseInt(permsText, 8) & 0o777;
    return [{ kind: "sysv" as const, name, size: Number(bytesText), uid: Number(uidText), mode, pids: live, inUse: live.length > 0 }];
  });
}

export interface Inventory {
  objects: IpcObject[];
  /** Why some kinds could not be listed. */
  notes: string[];
}

/** Every shared-memory segment, POSIX queue and SysV queue this user can see. Linux only. */
export function inventory(): Inventory {
  if (process.platform !== "linux") return { objects: [], notes: [`ipckit ls reads /proc and /dev/shm, which ${process.platform} does not have`] };
  const notes: string[] = [];
  if (!existsSync("/dev/mqueue")) {
    notes.push("POSIX message queues are not listed: /dev/mqueue is not mounted (as root: mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue)");
  }
  return { objects: [...listShm(), ...listMq(), ...listSysv()], notes };
}
