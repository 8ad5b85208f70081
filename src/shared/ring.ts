import { IpcError } from "../errors.js";
import { checkHeader, writeHeader } from "./header.js";
import { RobustLock, TIMED_OUT } from "./robust-lock.js";
import type { SharedWords } from "./words.js";

/** Word indices of the channel header (LAYOUT.md "Channel"). */
const MAX_MESSAGES = 4;
const TAG = 5;
const TAIL = 16;
const RECV_SLEEPERS = 17;
const HEAD = 32;
const SEND_SLEEPERS = 33;
const ROOM_EPOCH = 34;
const SEND_LOCK = 48;
const SEND_LOCK_WAITERS = 49;
const INTENT_TAIL = 50;
const INTENT_SENT = 51;
const SENT = 52;
const RECV_LOCK = 64;
const RECV_LOCK_WAITERS = 65;
const INTENT_HEAD = 66;
const INTENT_RECEIVED = 67;
const RECEIVED = 68;

export const RING_HEADER_BYTES = 512;
export const MIN_CAPACITY = 64;
export const MAX_CAPACITY = 2 ** 30;
const EVERYONE = 0x7fffffff;

/** Bytes a record of `n` payload bytes takes in the ring. */
export function recordBytes(n: number): number {
  return 4 + ((n + 3) & ~3);
}

/** Result of one locked attempt. */
export const Attempt = { Done: 0, Busy: 1, Full: 2, Empty: 3 } as const;
export type Attempt = (typeof Attempt)[keyof typeof Attempt];

/**
 * The MPMC ring over a segment. Every method here runs one short critical section and never
 * waits; the blocking loops (sync and async) live in Channel.
 */
export class Ring {
  readonly w: SharedWords;
  readonly capacity: number;
  readonly #mask: number;
  readonly #data = RING_HEADER_BYTES;
  readonly #send: RobustLock;
  readonly #recv: RobustLock;
  readonly #maxMessages: number;
  #lengthView: DataView;

  private constructor(w: SharedWords, capacity: number) {
    this.w = w;
    this.capacity = capacity;
    this.#mask = capacity - 1;
    this.#send = new RobustLock(w, SEND_LOCK, SEND_LOCK_WAITERS);
    this.#recv = new RobustLock(w, RECV_LOCK, RECV_LOCK_WAITERS);
    this.#maxMessages = Atomics.load(w.i32, MAX_MESSAGES) >>> 0;
    this.#lengthView = new DataView(w.buffer);
  }

  static init(w: SharedWords, capacity: number, maxMessages: number, tag: number): Ring {
    Atomics.store(w.i32, MAX_MESSAGES, maxMessages);
    Atomics.store(w.i32, TAG, tag);
    writeHeader(w, "channel", RING_HEADER_BYTES, capacity);
    return new Ring(w, capacity);
  }

  static attach(w: SharedWords, what: string): Ring {
    const capacity = checkHeader(w, "channel", RING_HEADER_BYTES, what);
    if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
      throw new IpcError("ERR_IPC_INVALID_ARGUMENT", `${what} has a corrupt header: capacity ${capacity} is not a power of two in range`);
    }
    const ring = new Ring(w, capacity);
    ring.#checkPositions();
    return ring;
  }

  /** What the creator layered on top (Queue: its codec id; 0: a plain Channel). */
  get tag(): number {
    return Atomics.load(this.w.i32, TAG);
  }

  get maxMessages(): number {
    return this.#maxMessages;
  }

  get maxMessageBytes(): number {
    return this.capacity - 4;
  }

  /** Messages in the ring right now (exact only while nobody sends or receives). */
  count(): number {
    const received = Atomics.load(this.w.i32, RECEIVED);
    const sent = Atomics.load(this.w.i32, SENT);
    const n = (sent - received) | 0;
    return n < 0 ? 0 : n;
  }

  #corrupt(why: string): IpcError {
    return new IpcError("ERR_IPC_PROTOCOL", `channel ${this.w.name} is corrupt (${why}); unlink and recreate it`);
  }

  /** Refuses positions no correct writer leaves; re-reads while others move them. */
  #checkPositions(): void {
    const i32 = this.w.i32;
    for (let attempt = 0; attempt < 1000; attempt++) {
      const head = Atomics.load(i32, HEAD);
      const tail = Atomics.load(i32, TAIL);
      if (Atomics.load(i32, HEAD) !== head) continue;
      if (((tail - head) >>> 0) > this.capacity || (head & 3) !== 0 || (tail & 3) !== 0) {
        throw this.#corrupt("head/tail out of range");
      }
      return;
    }
  }

  /** Takes a lock without sleeping; repairs the counters when its previous owner died. */
  #takeSend(): boolean {
    const got = this.#send.try();
    if (got === undefined) return false;
    if (got !== 1) this.#repairSend();
    return true;
  }

  #takeRecv(): boolean {
    const got = this.#recv.try();
    if (got === undefined) return false;
    if (got !== 1) this.#repairRecv();
    return true;
  }

  /** The journal says whether a dead sender got past its commit store (LAYOUT.md). */
  #repairSend(): void {
    const i32 = this.w.i32;
    if (Atomics.load(i32, TAIL) === Atomics.load(i32, INTENT_TAIL)) Atomics.store(i32, SENT, Atomics.load(i32, INTENT_SENT));
  }

  #repairRecv(): void {
    const i32 = this.w.i32;
    if (Atomics.load(i32, HEAD) === Atomics.load(i32, INTENT_HEAD)) Atomics.store(i32, RECEIVED, Atomics.load(i32, INTENT_RECEIVED));
  }

  /** Blocks for the send lock (used when a try found it busy). */
  lockSendSync(deadline: number | undefined): boolean {
    const got = this.#send.lockSync(deadline);
    if (got === TIMED_OUT) return false;
    if (got !== 1) this.#repairSend();
    this.#send.unlock();
    return true;
  }

  lockRecvSync(deadline: number | undefined): boolean {
    const got = this.#recv.lockSync(deadline);
    if (got === TIMED_OUT) return false;
    if (got !== 1) this.#repairRecv();
    this.#recv.unlock();
    return true;
  }

  async lockSend(deadline: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const got = await this.#send.lock(deadline, signal);
    if (got === TIMED_OUT) return false;
    if (got !== 1) this.#repairSend();
    this.#send.unlock();
    return true;
  }

  async lockRecv(deadline: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const got = await this.#recv.lock(deadline, signal);
    if (got === TIMED_OUT) return false;
    if (got !== 1) this.#repairRecv();
    this.#recv.unlock();
    return true;
  }

  /**
   * Writes messages list[from..] while they fit, commits them with one store of `tail`.
   * `sent.n` gets how many were committed; Full means the next one did not fit (sleep on
   * `sent.epoch` then), Busy that another sender holds the lock.
   *
   * Words only the send-lock holder writes (tail, sent, the journal) are read and written with
   * plain accesses under the lock; the commit store of `tail` is the seq-cst publication.
   */
  trySend(list: readonly Uint8Array[], from: number, sent: { n: number; epoch: number }): Attempt {
    sent.n = 0;
    if (!this.#takeSend()) return Attempt.Busy;
    const i32 = this.w.i32;
    const cap = this.capacity;
    const maxMessages = this.#maxMessages;
    const tail0 = i32[TAIL]!;
    const sent0 = i32[SENT]!;
    let head = Atomics.load(i32, HEAD);
    let received = maxMessages === 0 ? 0 : Atomics.load(i32, RECEIVED);
    let tail = tail0;
    let n = 0;
    let i = from;
    for (;;) {
      let used = (tail - head) >>> 0;
      let count = (sent0 + n - received) | 0;
      for (; i < list.length; i++) {
        const msg = list[i]!;
        const rec = recordBytes(msg.length);
        if (used + rec > cap || (maxMessages !== 0 && count >= maxMessages)) break;
        this.#write(tail, msg);
        tail = (tail + rec) | 0;
        used += rec;
        count++;
        n++;
      }
      if (i === list.length) break;
      // Full: take the epoch first, then look again; a receive after this bumps the epoch.
      sent.epoch = Atomics.load(i32, ROOM_EPOCH);
      const h = Atomics.load(i32, HEAD);
      const r = maxMessages === 0 ? 0 : Atomics.load(i32, RECEIVED);
      if (h === head && r === received) break;
      head = h;
      received = r;
    }
    sent.n = n;
    if (n > 0) {
      const sentNow = (sent0 + n) | 0;
      i32[INTENT_TAIL] = tail;
      i32[INTENT_SENT] = sentNow;
      Atomics.store(i32, TAIL, tail); // the commit
      i32[SENT] = sentNow;
    }
    this.#send.unlock();
    if (n > 0 && Atomics.load(i32, RECV_SLEEPERS) > 0) this.w.wake(TAIL, EVERYONE);
    return from + n === list.length ? Attempt.Done : Attempt.Full;
  }

  #write(tail: number, msg: Uint8Array): void {
    const off = tail & this.#mask;
    this.#lengthView.setUint32(this.#data + off, msg.length, true);
    const start = (off + 4) & this.#mask;
    const first = this.capacity - start;
    const u8 = this.w.u8;
    if (msg.length <= first) {
      u8.set(msg, this.#data + start);
    } else {
      u8.set(msg.subarray(0, first), this.#data + start);
      u8.set(msg.subarray(first), this.#data);
    }
  }

  /**
   * Copies out up to `max` messages into `out` and commits with one store of `head`. Empty
   * means nothing was there (sleep on `tail` with `seen.tail`).
   */
  tryReceive(max: number, out: Uint8Array[], seen: { tail: number }, into?: Uint8Array): Attempt {
    if (!this.#takeRecv()) return Attempt.Busy;
    const i32 = this.w.i32;
    const u8 = this.w.u8;
    const view = this.#lengthView;
    const cap = this.capacity;
    const mask = this.#mask;
    const data = this.#data;
    const tail = Atomics.load(i32, TAIL);
    const head0 = i32[HEAD]!;
    let head = head0;
    let n = 0;
    let used = (tail - head) >>> 0;
    let error: IpcError | undefined;
    if (used > cap || (head & 3) !== 0) error = this.#corrupt("head/tail out of range");
    while (error === undefined && n < max && used !== 0) {
      const off = head & mask;
      const len = view.getUint32(data + off, true);
      const rec = recordBytes(len);
      if (len > cap - 4 || rec > used) {
        error = this.#corrupt(`record of ${len} bytes with ${used} bytes committed`);
        break;
      }
      const start = (off + 4) & mask;
      const first = cap - start;
      let msg: Uint8Array;
      if (into !== undefined) {
        if (len > into.length) {
          error = new IpcError("ERR_IPC_TOO_LARGE", `the next message has ${len} bytes; the buffer given holds ${into.length} (the message stays queued)`);
          break;
        }
        msg = into.subarray(0, len);
        if (len <= first) msg.set(u8.subarray(data + start, data + start + len));
        else {
          msg.set(u8.subarray(data + start, data + cap), 0);
          msg.set(u8.subarray(data, data + len - first), first);
        }
      } else if (len <= first) {
        msg = u8.slice(data + start, data + start + len);
      } else {
        msg = new Uint8Array(len);
        msg.set(u8.subarray(data + start, data + cap), 0);
        msg.set(u8.subarray(data, data + len - first), first);
      }
      out.push(msg);
      head = (head + rec) | 0;
      used -= rec;
      n++;
    }
    seen.tail = tail;
    if (n > 0) {
      const receivedNow = (i32[RECEIVED]! + n) | 0;
      i32[INTENT_HEAD] = head;
      i32[INTENT_RECEIVED] = receivedNow;
      Atomics.store(i32, HEAD, head); // the commit
      i32[RECEIVED] = receivedNow;
      // Only receive-lock holders change it; seq-cst so a sender going to sleep sees it or is woken.
      Atomics.store(i32, ROOM_EPOCH, (i32[ROOM_EPOCH]! + 1) | 0);
    }
    this.#recv.unlock();
    if (n > 0 && Atomics.load(i32, SEND_SLEEPERS) > 0) this.w.wake(ROOM_EPOCH, EVERYONE);
    if (error !== undefined && n === 0) throw error;
    return n > 0 ? Attempt.Done : Attempt.Empty;
  }

  /** Sleep protocol for a receiver that found the ring empty at `tail`: see LAYOUT.md. */
  beginRecvSleep(tail: number): boolean {
    Atomics.add(this.w.i32, RECV_SLEEPERS, 1);
    if (Atomics.load(this.w.i32, TAIL) !== tail) {
      Atomics.sub(this.w.i32, RECV_SLEEPERS, 1);
      return false;
    }
    return true;
  }

  endRecvSleep(): void {
    Atomics.sub(this.w.i32, RECV_SLEEPERS, 1);
  }

  /** Sleep protocol for a sender that found no room during room epoch `epoch`. */
  beginSendSleep(epoch: number): boolean {
    Atomics.add(this.w.i32, SEND_SLEEPERS, 1);
    if (Atomics.load(this.w.i32, ROOM_EPOCH) !== epoch) {
      Atomics.sub(this.w.i32, SEND_SLEEPERS, 1);
      return false;
    }
    return true;
  }

  endSendSleep(): void {
    Atomics.sub(this.w.i32, SEND_SLEEPERS, 1);
  }

  static readonly TAIL = TAIL;
  static readonly ROOM_EPOCH = ROOM_EPOCH;
}
