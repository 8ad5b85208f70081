import type { Handle } from "./handle.js";

/**
 * A queue's async iterator: yields `receive()`'s messages until `handle` is closed (or the loop
 * breaks). The receive that a close ends is not an error here: the loop just stops.
 */
export async function* receiveUntilClosed<T>(handle: Handle, receive: () => Promise<T>): AsyncGenerator<T, void> {
  while (!handle.closed) {
    let message: T;
    try {
      message = await receive();
    } catch (error) {
      if (handle.closed) return;
      throw error;
    }
    yield message;
  }
}
