import process from "node:process";
import { IpcError, fromNativeError } from "./errors.js";
import { errorChain, loadBinding, packageVersion, warnOnce, type Binding, type LoadResult } from "./loader.js";

export type { Binding } from "./loader.js";
export type BackendName = "native" | "js";

/** Every feature in the public API; `capabilities` says which of them work here. */
export type Feature =
  | "sharedMemory"
  | "messageQueue"
  | "sysvMessageQueue"
  | "fifo"
  | "connection"
  | "channel"
  | "queue"
  | "sync";

interface FeatureSupport {
  /** Platforms (process.platform) where the native backend provides it. */
  native: readonly NodeJS.Platform[];
  /** Platforms where the pure-JS backend provides it. */
  js: readonly NodeJS.Platform[];
  /** What provides it, for ERR_IPC_UNSUPPORTED messages. */
  needs: string;
  /** Hands JS an ArrayBuffer over memory other processes write: impossible under a V8 sandbox. */
  sharesMemory?: true;
}

const UNIX: readonly NodeJS.Platform[] = ["linux", "darwin", "freebsd"];

const SUPPORT: Record<Feature, FeatureSupport> = {
  sharedMemory: { native: UNIX, js: [], needs: "the native binding (shm_open and mmap)", sharesMemory: true },
  messageQueue: {
    native: ["linux"],
    js: [],
    needs: "the native binding on Linux (POSIX mq_open; macOS has no POSIX message queues); the portable queue is Queue",
  },
  sysvMessageQueue: {
    native: ["linux"],
    js: [],
    needs: "the native binding on Linux (System V msgget); the portable queue is Queue",
  },
  fifo: { native: UNIX, js: UNIX, needs: "a Unix system (mkfifo); Windows has no FIFOs" },
  connection: { native: UNIX, js: [...UNIX, "win32"], needs: "Unix sockets, named pipes or TCP" },
  // Futex waits are Linux-only so far; macOS (os_sync_wait_on_address) plugs into crate/src/futex.rs.
  channel: { native: ["linux"], js: [], needs: "the native binding on Linux (shared memory and futex waits)", sharesMemory: true },
  queue: {
    native: ["linux"],
    js: UNIX,
    needs: "the native binding on Linux, or (js backend) Unix sockets; Windows named pipes are not wired in yet",
    sharesMemory: true,
  },
  sync: { native: ["linux"], js: [], needs: "the native binding on Linux (shared memory and futex waits)", sharesMemory: true },
};

const requested = process.env.IPCKIT_BACKEND ?? "";
if (requested !== "" && requested !== "native" && requested !== "js") {
  throw new IpcError("ERR_IPC_INVALID_ARGUMENT", `IPCKIT_BACKEND must be "native" or "js", got ${JSON.stringify(requested)}`);
}

const loaded: LoadResult =
  requested === "js" ? { binding: undefined, error: undefined, platformPackage: null, problem: null } : loadBinding();

if (requested === "native" && loaded.binding === undefined) {
  throw new IpcError(
    "ERR_IPC_UNSUPPORTED",
    `IPCKIT_BACKEND=native but the native binding did not load: ${loaded.problem ?? "unknown reason"}. ` +
      `Causes: ${errorChain(loaded.error).join(" <- ")}`,
    { cause: loaded.error },
  );
}

if (requested === "" && loaded.binding === undefined && loaded.problem !== null && loaded.platformPackage !== null) {
  warnOnce(loaded.problem);
}

/**
 * Whether native code may hand JS an ArrayBuffer over memory it does not own. A V8 sandbox
 * (Electron >= 21) forbids it, and napi-rs would otherwise silently copy: shared memory that is
 * not shared. Asked once; features that share memory then report unsupported.
 */
const externalBuffers: boolean | null = loaded.binding === undefined ? null : loaded.binding.externalBuffersAllowed();

/** Which backend is active: the Rust binding, or the pure-JS socket fallback. */
export const backend: BackendName = loaded.binding === undefined ? "js" : "native";

function supported(feature: Feature): boolean {
  const support = SUPPORT[feature];
  const platforms = backend === "native" ? support.native : support.js;
  if (backend === "native" && support.sharesMemory && externalBuffers === false) return false;
  return platforms.includes(process.platform);
}

/** Which features work with this backend on this platform. */
export const capabilities: Readonly<Record<Feature, boolean>> = Object.freeze(
  Object.fromEntries((Object.keys(SUPPORT) as Feature[]).map((f) => [f, supported(f)])) as Record<Feature, boolean>,
);

export interface Diagnostics {
  backend: BackendName;
  requested: string;
  platform: string;
  arch: string;
  runtime: string;
  bindingVersion: string | null;
  /** This package's version (the binding and the platform package must match it). */
  packageVersion: string;
  /** The package that carries this platform's binary (`ipckit-linux-x64-gnu`), or null if none is published. */
  platformPackage: string | null;
  /** Whether native code may share memory with JS here (false under a V8 sandbox, e.g. Electron >= 21); null without the binding. */
  externalBuffers: boolean | null;
  /** Why the binding did not load, in one sentence saying what to do (null when it loaded or was not wanted). */
  problem: string | null;
  /** Why the binding did not load: each entry is the cause of the one before. */
  loadError: string[] | null;
  capabilities: Readonly<Record<Feature, boolean>>;
}

function runtimeName(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun !== undefined) return `bun ${versions.bun}`;
  if (versions.deno !== undefined) return `deno ${versions.deno}`;
  return `node ${process.version}`;
}

/** Why the binding did or did not load, and what that leaves working. */
export function diagnostics(): Diagnostics {
  return {
    backend,
    requested: requested === "" ? "auto" : requested,
    platform: process.platform,
    arch: process.arch,
    runtime: runtimeName(),
    bindingVersion: loaded.binding?.bindingVersion() ?? null,
    packageVersion,
    platformPackage: loaded.platformPackage,
    externalBuffers,
    problem: loaded.problem,
    loadError: loaded.error === undefined ? null : errorChain(loaded.error),
    capabilities,
  };
}

/** The error a feature throws where it cannot work, saying what is missing and what would provide it. */
export function unsupported(feature: Feature, api: string): IpcError {
  const why =
    backend === "js"
      ? requested === "js"
        ? "IPCKIT_BACKEND=js selected the pure-JS backend"
        : `the native binding did not load (${loaded.problem ?? "see diagnostics()"})`
      : SUPPORT[feature].sharesMemory && externalBuffers === false
        ? "this runtime forbids external ArrayBuffers (Electron >= 21 or a V8 sandbox), so memory cannot be shared without copying"
        : `the native backend does not provide it on ${process.platform}`;
  const needs = SUPPORT[feature].sharesMemory && externalBuffers === false ? "a plain Node.js, Deno or Bun process" : SUPPORT[feature].needs;
  return new IpcError("ERR_IPC_UNSUPPORTED", `${api} is not available: ${why}; it needs ${needs}`);
}

/** The binding, for a feature that needs it; throws ERR_IPC_UNSUPPORTED where it does not work. */
export function nativeFor(feature: Feature, api: string): Binding {
  if (!capabilities[feature] || loaded.binding === undefined) throw unsupported(feature, api);
  return loaded.binding;
}

/** Runs a native call and turns its encoded errors into IpcError. */
export function callNative<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw fromNativeError(error);
  }
}

/** The same for a native call that returns a Promise. */
export async function callNativeAsync<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromNativeError(error);
  }
}
