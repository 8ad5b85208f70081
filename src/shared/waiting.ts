import { closedError } from "../errors.js";
import { checkOptions, checkSignal, checkTimeout } from "../validate.js";
import { deadlineOf } from "./words.js";

export interface WaitOptions {
  /** Milliseconds; ERR_IPC_TIMEOUT when it passes. Default: wait without limit. */
  timeout?: number;
  /** Aborting rejects with the signal's reason and leaves the object intact. */
  signal?: AbortSignal;
}

export interface SyncWaitOptions {
  timeout?: number;
}

export interface ParsedWait {
  timeout: number | undefined;
  deadline: number | undefined;
  signal: AbortSignal | undefined;
}

export function parseWait(options: unknown, what: string): ParsedWait {
  const opts = checkOptions<WaitOptions>(options, what);
  const timeout = checkTimeout(opts.timeout);
  return { timeout, deadline: deadlineOf(timeout), signal: checkSignal(opts.signal) };
}

/**
 * Lets `close()` end this handle's pending async waits: they reject with ERR_IPC_CLOSED.
 * The combined signal is made only on the slow path, when a wait really sleeps.
 */
export class Closer {
  readonly #controller = new AbortController();

  signal(user: AbortSignal | undefined): AbortSignal {
    return user === undefined ? this.#controller.signal : AbortSignal.any([this.#controller.signal, user]);
  }

  close(what: string): void {
    this.#controller.abort(closedError(what));
  }
}
