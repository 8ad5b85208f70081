import { readFileSync, statfsSync } from "node:fs";
import process from "node:process";

/** One kernel limit that matters for IPC, with advice when it is low for real work. */
export interface Limit {
  name: string;
  value: number | null;
  unit: "bytes" | "messages" | "queues" | "files";
  /** Where the value came from (a /proc file, statfs, ...). */
  source: string;
  low: boolean;
  advice: string | null;
}

function readNumber(path: string): number | null {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** A soft limit from /proc/self/limits, e.g. "Max msgqueue size". */
function readRlimit(label: string): number | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith(label));
    if (line === undefined) return null;
    const soft = line.slice(label.length).trim().split(/\s+/)[0];
    return soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return null;
  }
}

function limit(
  name: string,
  value: number | null,
  unit: Limit["unit"],
  source: string,
  minimum: number,
  advice: string,
): Limit {
  const low = value !== null && value < minimum;
  return { name, value, unit, source, low, advice: low ? advice : null };
}

const MiB = 1024 * 1024;

function shmSpace(): { size: number | null; free: number | null } {
  try {
    const st = statfsSync("/dev/shm");
    return { size: st.blocks * st.bsize, free: st.bavail * st.bsize };
  } catch {
    return { size: null, free: null };
  }
}

/** The kernel limits for shared memory, message queues and descriptors on this machine. */
export function kernelLimits(): Limit[] {
  if (process.platform !== "linux") return [];
  const shm = shmSpace();
  return [
    limit("/dev/shm size", shm.size, "bytes", "statfs /dev/shm", 256 * MiB,
      "shared memory and Channels live in /dev/shm; Docker gives 64 MB by default: run with --shm-size=1g"),
    limit("/dev/shm free", shm.free, "bytes", "statfs /dev/shm", 64 * MiB,
      "little shared memory is free: remove stale segments (ipckit ls, ipckit rm) or enlarge /dev/shm"),
    limit("POSIX mq messages per queue", readNumber("/proc/sys/fs/mqueue/msg_max"), "messages",
      "/proc/sys/fs/mqueue/msg_max", 64, "raise with: sudo sysctl -w fs.mqueue.msg_max=256"),
    limit("POSIX mq message size", readNumber("/proc/sys/fs/mqueue/msgsize_max"), "bytes",
      "/proc/sys/fs/mqueue/msgsize_max", 65536, "raise with: sudo sysctl -w fs.mqueue.msgsize_max=1048576"),
    limit("POSIX mq queues", readNumber("/proc/sys/fs/mqueue/queues_max"), "queues",
      "/proc/sys/fs/mqueue/queues_max", 64, "raise with: sudo sysctl -w fs.mqueue.queues_max=1024"),
    limit("POSIX mq bytes per user", readRlimit("Max msgqueue size"), "bytes", "RLIMIT_MSGQUEUE (/proc/self/limits)",
      8 * MiB, "raise with ulimit -q (or msgqueue in /etc/security/limits.conf)"),
    limit("SysV message size", readNumber("/proc/sys/kernel/msgmax"), "bytes", "/proc/sys/kernel/msgmax", 65536,
      "raise with: sudo sysctl -w kernel.msgmax=65536"),
    limit("SysV bytes per queue", readNumber("/proc/sys/kernel/msgmnb"), "bytes", "/proc/sys/kernel/msgmnb", 65536,
      "raise with: sudo sysctl -w kernel.msgmnb=1048576"),
    limit("open files", readRlimit("Max open files"), "files", "RLIMIT_NOFILE (/proc/self/limits)", 4096,
      "each connection, queue and FIFO holds a descriptor: raise with ulimit -n 65536"),
  ];
}
