import type { Binding } from "./backend.js";
import { callNativeAsync } from "./backend.js";
import { IpcError } from "./errors.js";

type NativeCancel = InstanceType<Binding["NativeCancel"]>;

/**
 * Runs an async native wait that an AbortSignal can end. The native side decides the outcome,
 * so an abort that loses the race to a completed operation does not hide its result, and an
 * abort that wins has done nothing (no message sent or consumed).
 */
export async function cancellable<T>(
  binding: Binding,
  signal: AbortSignal | undefined,
  start: (cancel: NativeCancel) => Promise<T>,
): Promise<T> {
  signal?.throwIfAborted();
  const cancel = new binding.NativeCancel();
  const onAbort = (): void => cancel.cancel();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await callNativeAsync(() => start(cancel));
  } catch (error) {
    if (error instanceof IpcError && error.code === "ERR_IPC_ABORTED" && signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Async forms first try the operation without waiting (one syscall, no Promise round trip
 * through the native runtime). A stream of such immediate successes would never yield to the
 * event loop, so after `limit` in a row one call takes the native async path, which does.
 */
export class FastPath {
  #run = 0;
  constructor(readonly limit = 32) {}

  /** Whether this call may take the synchronous fast path. */
  next(): boolean {
    return ++this.#run <= this.limit;
  }

  reset(): void {
    this.#run = 0;
  }
}

/**
 * The async form of a queue operation: `now()` (which never waits; undefined when it could not
 * complete now) while `streak` allows the fast path, else the native wait `wait(cancel)` that
 * `signal` can end (see `cancellable`).
 */
export async function nowOrWait<T, W>(
  streak: FastPath,
  binding: Binding,
  signal: AbortSignal | undefined,
  now: () => T | undefined,
  wait: (cancel: NativeCancel) => Promise<W>,
): Promise<T | W> {
  signal?.throwIfAborted();
  if (streak.next()) {
    const done = now();
    if (done !== undefined) return done;
  }
  streak.reset();
  return cancellable(binding, signal, wait);
}

/** Waits `ms` unless the signal fires first. */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
