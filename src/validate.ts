import { invalidArgument } from "./errors.js";

/** Checks made in the facade, so bad input is refused before it can reach a syscall. */

export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null) return "null";
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  if (typeof value === "function") return "a function";
  return String(value);
}

export function checkOptions<T extends object>(options: unknown, what: string): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw invalidArgument(`${what} options must be an object, got ${describeValue(options)}`);
  }
  return options as Partial<T>;
}

/** A whole number in [min, max] (max defaults to Number.MAX_SAFE_INTEGER). */
export function checkInteger(value: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw invalidArgument(`${what} must be an integer ${range}, got ${describeValue(value)}`);
  }
  return value;
}

export function checkBoolean(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw invalidArgument(`${what} must be a boolean, got ${describeValue(value)}`);
  return value;
}

export function checkString(value: unknown, what: string): string {
  if (typeof value !== "string") throw invalidArgument(`${what} must be a string, got ${describeValue(value)}`);
  if (value.includes("\0")) throw invalidArgument(`${what} must not contain a NUL character`);
  return value;
}

export function checkMode(value: unknown, fallback = 0o600): number {
  if (value === undefined) return fallback;
  return checkInteger(value, "mode", 0, 0o777);
}

/** Longest portable POSIX IPC name after the slash (macOS allows 31 bytes including it). */
export const MAX_NAME_LENGTH = 30;
const NAME_PATTERN = /^\/?[A-Za-z0-9._-]{1,30}$/;

/** `"frames"` and `"/frames"` both name the POSIX object `/frames`. */
export function checkObjectName(value: unknown, what = "name"): string {
  const name = checkString(value, what);
  const bare = name.startsWith("/") ? name.slice(1) : name;
  if (!NAME_PATTERN.test(name) || bare === "." || bare === "..") {
    throw invalidArgument(
      `invalid ${what} ${describeValue(value)}: use 1 to ${MAX_NAME_LENGTH} characters of [A-Za-z0-9._-], optionally after one "/"`,
    );
  }
  return `/${bare}`;
}

export function checkTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw invalidArgument(`timeout must be a number of milliseconds >= 0, got ${describeValue(value)}`);
  }
  return value;
}

export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidArgument(`signal must be an AbortSignal, got ${describeValue(value)}`);
  return value;
}

const utf8 = new TextEncoder();

/** Message bytes: a Uint8Array (Buffer included) as is, another view or an ArrayBuffer as a
 * Uint8Array over the same memory, a string as UTF-8. */
export function checkBytes(value: unknown, what = "data"): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return utf8.encode(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer)) {
    return new Uint8Array(value);
  }
  throw invalidArgument(`${what} must be a Uint8Array, Buffer, ArrayBuffer view, ArrayBuffer or string, got ${describeValue(value)}`);
}
