import { IpcError } from "./errors.js";

/**
 * A queue of values handed to whoever waits for them, with the `{ timeout, signal }` rules every
 * ipckit Promise follows: timeout -> ERR_IPC_TIMEOUT, abort -> the signal's reason; either way the
 * waiter leaves the queue and nothing is lost.
 */
export interface WaitOptions {
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

export class WaitQueue<T> {
  readonly #items: T[] = [];
  #head = 0;
  readonly #waiters: Waiter<T>[] = [];
  #failure: unknown;
  #failed = false;

  get length(): number {
    return this.#items.length - this.#head;
  }

  get failed(): boolean {
    return this.#failed;
  }

  get failure(): unknown {
    return this.#failure;
  }

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(item);
    else this.#items.push(item);
  }

  /** The next item if one is queued. */
  tryShift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as T;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** After this, queued items still drain; then every wait rejects with `error`. */
  fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = error;
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }

  /** Drops queued items and ends every wait with `error` (a close). */
  clear(error: unknown): T[] {
    const dropped = this.#items.splice(this.#head);
    this.#items.length = 0;
    this.#head = 0;
    this.#failed = false;
    this.fail(error);
    return dropped;
  }

  /**
   * The next item, waiting if needed; `map` turns it into the result (its exceptions reject).
   * The path without timeout or signal allocates one Promise and one small waiter.
   */
  shift<R = T>(options: WaitOptions = {}, map?: (item: T) => R, recover?: (error: unknown) => R): Promise<R> {
    if (this.length > 0) {
      const item = this.tryShift()!;
      if (map === undefined) return Promise.resolve(item as unknown as R);
      try {
        return Promise.resolve(map(item));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (this.#failed) {
      if (recover === undefined) return Promise.reject(this.#failure);
      try {
        return Promise.resolve(recover(this.#failure));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const { timeout, signal } = options;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    if (timeout === undefined && signal === undefined) {
      return new Promise<R>((resolve, reject) => {
        this.#waiters.push(
          map === undefined && recover === undefined
            ? { resolve: resolve as (v: T) => void, reject }
            : new MappedWaiter<T, R>(resolve, reject, map, recover),
        );
      });
    }
    return new Promise<R>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        settle();
        reject(signal!.reason);
      };
      const settle = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const waiter: Waiter<T> = {
        resolve: (item) => {
          settle();
          if (map === undefined) resolve(item as unknown as R);
          else settleMapped(item, map, resolve, reject);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      this.#waiters.push(waiter);
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          settle();
          reject(new IpcError("ERR_IPC_TIMEOUT", `timed out after ${timeout} ms`));
        }, timeout);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

function settleMapped<T, R>(item: T, map: (item: T) => R, resolve: (value: R) => void, reject: (error: unknown) => void): void {
  let value: R;
  try {
    value = map(item);
  } catch (error) {
    reject(error);
    return;
  }
  resolve(value);
}

/** A waiter that maps what it gets, as a class so the hot receive path allocates no closures. */
class MappedWaiter<T, R> implements Waiter<T> {
  constructor(
    private readonly done: (value: R) => void,
    private readonly fail: (error: unknown) => void,
    private readonly map: ((item: T) => R) | undefined,
    private readonly recover: ((error: unknown) => R) | undefined,
  ) {}

  resolve(item: T): void {
    if (this.map === undefined) this.done(item as unknown as R);
    else settleMapped(item, this.map, this.done, this.fail);
  }

  reject(error: unknown): void {
    if (this.recover === undefined) this.fail(error);
    else settleMapped(error, this.recover, this.done, this.fail);
  }
}
