import { createRequire } from "node:module";
import process from "node:process";
import { IpcError, fromNativeError } from "./errors.js";

export type Binding = typeof import("./native/binding.cjs");
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
}

const UNIX: readonly NodeJS.Platform[] = ["linux", "darwin", "freebsd"];

const SUPPORT: Record<Feature, FeatureSupport> = {
  sharedMemory: { native: UNIX, js: [], needs: "the native binding (shm_open and mmap)" },
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
  channel: { native: ["linux"], js: [], needs: "the native binding on Linux (shared memory and futex waits)" },
  queue: {
    native: ["linux"],
    js: UNIX,
    needs: "the native binding on Linux, or (js backend) Unix sockets; Windows named pipes are not wired in yet",
  },
  sync: { native: ["linux"], js: [], needs: "the native binding on Linux (shared memory and futex waits)" },
};

interface LoadResult {
  binding: Binding | undefined;
  error: unknown;
}

const requested = process.env.IPCKIT_BACKEND ?? "";
if (requested !== "" && requested !== "native" && requested !== "js") {
  throw new IpcError("ERR_IPC_INVALID_ARGUMENT", `IPCKIT_BACKEND must be "native" or "js", got ${JSON.stringify(requested)}`);
}

function loadBinding(): LoadResult {
  if (requested === "js") return { binding: undefined, error: undefined };
  try {
    // A static import could not be caught; the loader throws when no binary fits this platform.
    const binding = createRequire(import.meta.url)("./native/binding.cjs") as Binding;
    return { binding, error: undefined };
  } catch (error) {
    return { binding: undefined, error };
  }
}

const loaded = loadBinding();

if (requested === "native" && loaded.binding === undefined) {
  throw new IpcError(
    "ERR_IPC_UNSUPPORTED",
    `IPCKIT_BACKEND=native but the native binding did not load: ${errorChain(loaded.error).join(" <- ")}`,
    { cause: loaded.error },
  );
}

/** Which backend is active: the Rust binding, or the pure-JS socket fallback. */
export const backend: BackendName = loaded.binding === undefined ? "js" : "native";

function supported(feature: Feature): boolean {
  const support = SUPPORT[feature];
  const platforms = backend === "native" ? support.native : support.js;
  return platforms.includes(process.platform);
}

/** Which features work with this backend on this platform. */
export const capabilities: Readonly<Record<Feature, boolean>> = Object.freeze(
  Object.fromEntries((Object.keys(SUPPORT) as Feature[]).map((f) => [f, supported(f)])) as Record<Feature, boolean>,
);

function errorChain(error: unknown): string[] {
  const chain: string[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 10) {
    chain.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

export interface Diagnostics {
  backend: BackendName;
  requested: string;
  platform: string;
  arch: string;
  runtime: string;
  bindingVersion: string | null;
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
        : "the native binding did not load (see diagnostics())"
      : `the native backend does not provide it on ${process.platform}`;
  return new IpcError("ERR_IPC_UNSUPPORTED", `${api} is not available: ${why}; it needs ${SUPPORT[feature].needs}`);
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
