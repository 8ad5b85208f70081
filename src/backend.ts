import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { IpcError, fromNativeError } from "./errors.js";
import nativeRequire from "./native/require.cjs";

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
  channel: { native: [], js: [], needs: "the native binding (shared memory and futex waits)", sharesMemory: true },
  queue: { native: [], js: [], needs: "the native binding or the socket transport", sharesMemory: true },
  sync: { native: [], js: [], needs: "the native binding (shared memory and futex waits)", sharesMemory: true },
};

/** The platform packages published beside the root (npm/<suffix>), one per napi target. */
export const PLATFORM_PACKAGES: readonly string[] = [
  "linux-x64-gnu",
  "linux-arm64-gnu",
  "linux-x64-musl",
  "linux-arm64-musl",
  "darwin-x64",
  "darwin-arm64",
];

const requested = process.env.IPCKIT_BACKEND ?? "";
if (requested !== "" && requested !== "native" && requested !== "js") {
  throw new IpcError("ERR_IPC_INVALID_ARGUMENT", `IPCKIT_BACKEND must be "native" or "js", got ${JSON.stringify(requested)}`);
}

/** This package's version: the binding and the platform package must come from the same release. */
const packageVersion = (nativeRequire("../../package.json") as { version: string }).version;

function isMusl(): boolean {
  // The same two probes as the generated loader, so both name the same package.
  // Either may be refused (Deno without --allow-read or --allow-sys): then assume glibc, as it does.
  try {
    return readFileSync("/usr/bin/ldd", "utf8").includes("musl");
  } catch {
    try {
      const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
      return report?.header !== undefined && report.header.glibcVersionRuntime === undefined;
    } catch {
      return false;
    }
  }
}

/** `linux-x64-gnu` and so on: the suffix of this platform's package, if one is published. */
function platformSuffix(): string | undefined {
  const base = `${process.platform}-${process.arch}`;
  const suffix = process.platform === "linux" ? `${base}-${isMusl() ? "musl" : "gnu"}` : base;
  return PLATFORM_PACKAGES.includes(suffix) ? suffix : undefined;
}

interface LoadResult {
  binding: Binding | undefined;
  error: unknown;
  /** The package this platform's binary comes from (`ipckit-linux-x64-gnu`), if one is published. */
  platformPackage: string | null;
  /** What went wrong, in one sentence naming what to install or change (null when nothing did). */
  problem: string | null;
}

function installedVersion(pkg: string): string | undefined {
  try {
    return (nativeRequire(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * A binding from another release than this facade may not have the functions (or argument
 * order) this code calls: refuse it and say which side to reinstall.
 */
function versionProblem(binding: Binding, pkg: string | null): string | null {
  let version: string;
  try {
    version = binding.bindingVersion();
  } catch {
    version = "unknown";
  }
  if (version !== packageVersion) {
    return `the native binding is version ${version} but ipckit is ${packageVersion}: a binary from another release was loaded${
      pkg === null ? "" : `; reinstall so that ${pkg}@${packageVersion} is installed`
    }`;
  }
  // The loader prefers NAPI_RS_NATIVE_LIBRARY_PATH, then a binary beside it (a development build);
  // only otherwise did the binary come from the platform package, whose version must match too.
  const suffix = pkg?.slice("ipckit-".length);
  const fromPackage =
    pkg !== null &&
    !process.env.NAPI_RS_NATIVE_LIBRARY_PATH &&
    !existsSync(nativeRequire.resolve("./binding.cjs").replace(/binding\.cjs$/, `ipckit.${suffix}.node`));
  const installed = fromPackage ? installedVersion(pkg) : undefined;
  if (installed !== undefined && installed !== packageVersion) {
    return `${pkg} is version ${installed} but ipckit is ${packageVersion}; install ${pkg}@${packageVersion} (or reinstall ipckit)`;
  }
  return null;
}

/** The first line of the innermost cause (Node appends a require stack to module errors). */
function firstLine(error: unknown): string {
  return (errorChain(error).at(-1) ?? "unknown error").split("\n")[0] ?? "";
}

function whyNotLoaded(error: unknown, pkg: string | null): string {
  if (errorChain(error).some((m) => m.includes("--allow-ffi"))) {
    return "Deno was run without --allow-ffi, which loading a Node-API addon needs (add --allow-ffi)";
  }
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH;
  if (override) return `NAPI_RS_NATIVE_LIBRARY_PATH=${override} did not load (${firstLine(error)})`;
  if (pkg === null) {
    return `no prebuilt binary is published for ${process.platform}-${process.arch} (build the crate from source for native features)`;
  }
  if (installedVersion(pkg) === undefined) {
    return (
      `the platform package ${pkg} is not installed (optional dependencies omitted with --omit=optional, ` +
      `or dropped by a lockfile made on another platform: npm/cli#4828); install it with \`npm install ${pkg}@${packageVersion}\``
    );
  }
  return `${pkg} is installed but its binary did not load (${firstLine(error)})`;
}

function loadBinding(): LoadResult {
  if (requested === "js") return { binding: undefined, error: undefined, platformPackage: null, problem: null };
  const suffix = platformSuffix();
  const pkg = suffix === undefined ? null : `ipckit-${suffix}`;
  let binding: Binding;
  try {
    // A static import could not be caught; the loader throws when no binary fits this platform.
    binding = nativeRequire("./binding.cjs") as Binding;
  } catch (error) {
    return { binding: undefined, error, platformPackage: pkg, problem: whyNotLoaded(error, pkg) };
  }
  const problem = versionProblem(binding, pkg);
  if (problem !== null) return { binding: undefined, error: new Error(problem), platformPackage: pkg, problem };
  return { binding, error: undefined, platformPackage: pkg, problem: null };
}

const loaded = loadBinding();

if (requested === "native" && loaded.binding === undefined) {
  throw new IpcError(
    "ERR_IPC_UNSUPPORTED",
    `IPCKIT_BACKEND=native but the native binding did not load: ${loaded.problem ?? "unknown reason"}. ` +
      `Causes: ${errorChain(loaded.error).join(" <- ")}`,
    { cause: loaded.error },
  );
}

const WARNED = Symbol.for("ipckit.warnedNoBinding");

/**
 * Falling back silently would leave users wondering why SharedMemory throws: say it once per
 * process (the ESM and CJS builds share the flag), naming what to install. Not on platforms with
 * no published binary, where the socket backend is simply what ipckit offers.
 */
function warnOnce(problem: string): void {
  const global = globalThis as { [WARNED]?: true };
  if (global[WARNED]) return;
  global[WARNED] = true;
  process.emitWarning(
    `ipckit uses its pure-JS socket backend because ${problem}. Shared memory, message queues and the other ` +
      "native features throw ERR_IPC_UNSUPPORTED. Set IPCKIT_BACKEND=js to choose this backend without a warning.",
    { type: "IpckitWarning", code: "IPCKIT_NO_NATIVE_BINDING" },
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
