import { callNative, callNativeAsync, nativeFor, type Binding, type Feature } from "../backend.js";
import process from "node:process";
import { IpcError } from "../errors.js";

type NativeSegment = InstanceType<Binding["NativeSharedMemory"]>;

/** Outcomes of a native wait (crate/src/glue/futex.rs). */
const CHANGED = 0;
const TIMED_OUT = 1;
const CANCELLED = 2;
const CHANGED_WHILE_SPINNING = 3;

/**
 * Spin bounds before sleeping. IPCKIT_SPIN_US caps the spin (0: never spin, always sleep in the
 * kernel: lowest CPU, ~tens of µs more latency per wake-up). Default cap 50 µs.
 */
function spinCap(): number {
  const raw = process.env.IPCKIT_SPIN_US;
  const n = raw === undefined || raw === "" ? NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= 10_000 ? n : 50;
}
export const MAX_SPIN_US = spinCap();
const MIN_SPIN_US = Math.min(2, MAX_SPIN_US);

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

export function timeoutError(what: string, ms: number): IpcError {
  return new IpcError("ERR_IPC_TIMEOUT", `${what} timed out after ${ms} ms`);
}

/** A deadline in performance.now() milliseconds, or undefined for none. */
export function deadlineOf(timeout: number | undefined): number | undefined {
  return timeout === undefined || timeout === Infinity ? undefined : performance.now() + timeout;
}

function remaining(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : Math.max(0, deadline - performance.now());
}

/**
 * A mapped segment seen as 32-bit words (for atomics) and bytes, with the native sleep/wake
 * calls. The fast paths of Channel and the sync primitives run here in JS; only sleeping and
 * waking cross into native code (see LAYOUT.md).
 */
export class SharedWords {
  readonly native: NativeSegment;
  readonly binding: Binding;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly buffer: ArrayBuffer;
  /** Adaptive spin before sleeping: grows while peers answer during the spin, shrinks when not. */
  #spinUs = Math.min(16, MAX_SPIN_US);

  readonly name: string;

  private constructor(binding: Binding, native: NativeSegment) {
    this.binding = binding;
    this.native = native;
    this.name = native.name;
    this.buffer = callNative(() => native.buffer());
    this.i32 = new Int32Array(this.buffer);
    this.u8 = new Uint8Array(this.buffer);
  }

  static create(feature: Feature, api: string, name: string, size: number, mode: number): SharedWords {
    const binding = nativeFor(feature, api);
    return new SharedWords(binding, callNative(() => binding.NativeSharedMemory.create(name, size, mode, true)));
  }

  static open(feature: Feature, api: string, name: string): SharedWords {
    const binding = nativeFor(feature, api);
    return new SharedWords(binding, callNative(() => binding.NativeSharedMemory.open(name, false)));
  }

  static unlink(feature: Feature, api: string, name: string): void {
    const binding = nativeFor(feature, api);
    callNative(() => binding.shmUnlink(name));
  }

  get size(): number {
    return this.buffer.byteLength;
  }

  #adapt(outcome: number): void {
    if (outcome === CHANGED_WHILE_SPINNING) this.#spinUs = Math.min(MAX_SPIN_US, this.#spinUs * 2);
    else if (outcome === CHANGED) this.#spinUs = Math.max(MIN_SPIN_US, this.#spinUs >> 1);
  }

  /**
   * Blocks while word `index` holds `expected`. Returns false when the deadline passed.
   * Returns true on any change or wake-up: callers always re-check their condition.
   */
  waitSync(index: number, expected: number, deadline: number | undefined): boolean {
    const left = remaining(deadline);
    if (left === 0) return false;
    const outcome = callNative(() => this.binding.futexWait(this.native, index * 4, expected, left, this.#spinUs));
    this.#adapt(outcome);
    return outcome !== TIMED_OUT;
  }

  /** The same without blocking the event loop: the sleep happens on a native pool thread. */
  async waitAsync(index: number, expected: number, deadline: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const left = remaining(deadline);
    if (left === 0) return false;
    if (signal?.aborted) throw abortReason(signal);
    const cancel = signal === undefined ? undefined : new this.binding.NativeWaitCancel();
    const onAbort = () => {
      cancel?.cancel();
      // Waking everyone on the word is harmless (all waiters re-check) and reaches our thread.
      this.wake(index, 0x7fffffff);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const outcome = await callNativeAsync(() =>
        this.binding.futexWaitAsync(this.native, index * 4, expected, left, this.#spinUs, cancel),
      );
      if (outcome === CANCELLED && signal !== undefined) throw abortReason(signal);
      this.#adapt(outcome);
      return outcome !== TIMED_OUT;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  wake(index: number, count: number): number {
    return callNative(() => this.binding.futexWake(this.native, index * 4, count));
  }

  pidAlive(pid: number): boolean {
    return this.binding.pidAlive(pid);
  }

  /** Detaches the buffer (no JS view can reach the pages again) and drops the mapping. */
  close(): void {
    this.binding.detachArrayBuffer(this.buffer);
    this.native.close();
  }
}
