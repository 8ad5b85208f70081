import { closedError } from "./errors.js";

/**
 * What every ipckit handle shares: `close()` is idempotent, `Symbol.dispose` closes, and any
 * use after close throws `ERR_IPC_CLOSED`.
 */
export abstract class Handle {
  #closed = false;

  /** Names the handle in error messages, e.g. `SharedMemory "/frames"`. */
  protected abstract describe(): string;

  /** Frees the resources; called once, by the first `close()`. (Not `release`: Semaphore.release is public API.) */
  protected abstract freeResources(): void;

  get closed(): boolean {
    return this.#closed;
  }

  protected ensureOpen(): void {
    if (this.#closed) throw closedError(this.describe());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.freeResources();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
