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
