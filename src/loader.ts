import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import nativeRequire from "./native/require.cjs";

// Finding and loading the native binding, checking it belongs to this release, and saying what to
// install when it does not load. backend.ts decides what follows from the result.

export type Binding = typeof import("./native/binding.cjs");

/** The platform packages published beside the root (npm/<suffix>), one per napi target. */
export const PLATFORM_PACKAGES: readonly string[] = [
  "linux-x64-gnu",
  "linux-arm64-gnu",
  "linux-x64-musl",
  "linux-arm64-musl",
  "darwin-x64",
  "darwin-arm64",
];

/** This package's version: the binding and the platform package must come from the same release. */
export const packageVersion = (nativeRequire("../../package.json") as { version: string }).version;

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

export interface LoadResult {
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

/** Loads the binding through the generated loader; never throws. */
export function loadBinding(): LoadResult {
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

const WARNED = Symbol.for("ipckit.warnedNoBinding");

/**
 * Falling back silently would leave users wondering why SharedMemory throws: say it once per
 * process (the ESM and CJS builds share the flag), naming what to install. Not on platforms with
 * no published binary, where the socket backend is simply what ipckit offers.
 */
export function warnOnce(problem: string): void {
  const global = globalThis as { [WARNED]?: true };
  if (global[WARNED]) return;
  global[WARNED] = true;
  process.emitWarning(
    `ipckit uses its pure-JS socket backend because ${problem}. Shared memory, message queues and the other ` +
      "native features throw ERR_IPC_UNSUPPORTED. Set IPCKIT_BACKEND=js to choose this backend without a warning.",
    { type: "IpckitWarning", code: "IPCKIT_NO_NATIVE_BINDING" },
  );
}

/** The messages of an error and its causes, outermost first. */
export function errorChain(error: unknown): string[] {
  const chain: string[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 10) {
    chain.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}
