import process from "node:process";
import type { SharedWords } from "./words.js";

/** How long a waiter sleeps before checking whether the owner still exists. */
const LIVENESS_SLICE_MS = 50;
const SPINS = 64;

export const LOCKED = 1;
export const LOCKED_OWNER_DIED = 2;
export const TIMED_OUT = 0;
export type LockOutcome = typeof LOCKED | typeof LOCKED_OWNER_DIED | typeof TIMED_OUT;

/** When one sleep ends: the deadline, or sooner, so a dead owner is noticed within a liveness slice. */
function sliceEnd(deadline: number | undefined): number {
  const slice = performance.now() + LIVENESS_SLICE_MS;
  return deadline === undefined ? slice : Math.min(deadline, slice);
}

/**
 * A process-owned robust lock on two words (LAYOUT.md "Robust lock"): the lock word holds the
 * owner's pid; a waiter that finds the owner dead takes the lock over with a CAS on that exact
 * pid, so exactly one waiter recovers it and is told.
 */
export class RobustLock {
  readonly #w: SharedWords;
  readonly #lock: number;
  readonly #waiters: number;
  readonly #pid = process.pid;

  constructor(words: SharedWords, lockIndex: number, waitersIndex: number) {
    this.#w = words;
    this.#lock = lockIndex;
    this.#waiters = waitersIndex;
  }

  get ownerPid(): number {
    return Atomics.load(this.#w.i32, this.#lock);
  }

  heldByThisProcess(): boolean {
    return this.ownerPid === this.#pid;
  }

  /** One attempt: takes a free lock, or a dead owner's. Returns undefined when it is held. */
  try(): LockOutcome | undefined {
    const i32 = this.#w.i32;
    const seen = Atomics.compareExchange(i32, this.#lock, 0, this.#pid);
    if (seen === 0) return LOCKED;
    return this.#recover(seen);
  }

  #recover(owner: number): LockOutcome | undefined {
    if (owner === this.#pid || this.#w.pidAlive(owner)) return undefined;
    return Atomics.compareExchange(this.#w.i32, this.#lock, owner, this.#pid) === owner ? LOCKED_OWNER_DIED : undefined;
  }

  #spin(): LockOutcome | undefined {
    const i32 = this.#w.i32;
    for (let i = 0; i < SPINS; i++) {
      if (Atomics.load(i32, this.#lock) === 0 && Atomics.compareExchange(i32, this.#lock, 0, this.#pid) === 0) return LOCKED;
    }
    return undefined;
  }

  /** Blocks until locked or the deadline (performance.now() ms) passes. */
  lockSync(deadline: number | undefined): LockOutcome {
    const fast = this.try() ?? this.#spin();
    if (fast !== undefined) return fast;
    const i32 = this.#w.i32;
    for (;;) {
      Atomics.add(i32, this.#waiters, 1);
      let owner = Atomics.load(i32, this.#lock);
      let timedOut = false;
      try {
        if (owner !== 0) {
          const slice = sliceEnd(deadline);
          this.#w.waitSync(this.#lock, owner, slice);
          timedOut = deadline !== undefined && performance.now() >= deadline;
        }
      } finally {
        Atomics.sub(i32, this.#waiters, 1);
      }
      const got = this.try();
      if (got !== undefined) return got;
      if (timedOut) return TIMED_OUT;
      owner = 0;
    }
  }

  /** The same off the event loop; rejects with the signal's reason on abort. */
  async lock(deadline: number | undefined, signal: AbortSignal | undefined): Promise<LockOutcome> {
    const fast = this.try() ?? this.#spin();
    if (fast !== undefined) return fast;
    const i32 = this.#w.i32;
    for (;;) {
      Atomics.add(i32, this.#waiters, 1);
      const owner = Atomics.load(i32, this.#lock);
      let timedOut = false;
      try {
        if (owner !== 0) {
          const slice = sliceEnd(deadline);
          await this.#w.waitAsync(this.#lock, owner, slice, signal);
          timedOut = deadline !== undefined && performance.now() >= deadline;
        }
      } finally {
        Atomics.sub(i32, this.#waiters, 1);
      }
      const got = this.try();
      if (got !== undefined) return got;
      if (timedOut) return TIMED_OUT;
    }
  }

  /** Releases (only meaningful when this process owns it) and wakes one waiter if any sleep. */
  unlock(): void {
    const i32 = this.#w.i32;
    Atomics.store(i32, this.#lock, 0);
    if (Atomics.load(i32, this.#waiters) > 0) this.#w.wake(this.#lock, 1);
  }
}
