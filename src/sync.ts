import { IpcError } from "./errors.js";
import { Handle } from "./handle.js";
import { checkHeader, writeHeader, type Kind } from "./shared/header.js";
import { LOCKED_OWNER_DIED, RobustLock, TIMED_OUT } from "./shared/robust-lock.js";
import { Closer, parseWait, type ParsedWait, type SyncWaitOptions, type WaitOptions } from "./shared/waiting.js";
import { SharedWords, timeoutError } from "./shared/words.js";
import { checkInteger, checkMode, checkObjectName, checkOptions } from "./validate.js";

/** LAYOUT.md: Mutex, Semaphore and IpcEvent segments are a 256-byte header. */
const SYNC_BYTES = 256;
const WORD_A = 16; // lock / count / flag
const WORD_B = 17; // lockWaiters / sleepers
const WORD_C = 18; // event generation
const EVERYONE = 0x7fffffff;
const MAX_VALUE = 0x7fffffff;

export interface SyncCreateOptions {
  /** Permission bits of the shared-memory object. Default 0o600. */
  mode?: number;
}

export interface SemaphoreCreateOptions extends SyncCreateOptions {
  /** Initial count. Default 1. */
  value?: number;
}

/** What a lock call got: the lock, and whether its previous holder died holding it. */
export interface LockResult {
  /** The previous owner process died while holding the lock: what it protected may be half-updated. */
  ownerDied: boolean;
}

function makeWords(kind: Kind, api: string, name: string, options: unknown, init?: (w: SharedWords) => void): SharedWords {
  const objectName = checkObjectName(name);
  const opts = checkOptions<SyncCreateOptions>(options, `${api}.create`);
  const mode = checkMode(opts.mode);
  const words = SharedWords.create("sync", api, objectName, SYNC_BYTES, mode);
  init?.(words);
  writeHeader(words, kind, SYNC_BYTES, 0);
  return words;
}

function openWords(kind: Kind, api: string, name: string): SharedWords {
  const objectName = checkObjectName(name);
  const words = SharedWords.open("sync", api, objectName);
  try {
    checkHeader(words, kind, SYNC_BYTES, `${api} ${JSON.stringify(objectName)}`);
  } catch (error) {
    words.close();
    throw error;
  }
  return words;
}

/** What the three primitives share: the segment, close and unlink. */
abstract class SyncHandle extends Handle {
  protected readonly w: SharedWords;
  protected readonly closer = new Closer();

  protected constructor(words: SharedWords) {
    super();
    this.w = words;
  }

  protected freeResources(): void {
    this.closer.close(this.describe());
    this.w.close();
  }

  get name(): string {
    return this.w.name;
  }

  /** Removes the name; processes that have it open keep using it. */
  unlink(): void {
    SharedWords.unlink("sync", this.constructor.name, this.w.name);
  }

  protected asyncSignal(wait: ParsedWait): AbortSignal {
    if (wait.signal?.aborted) throw wait.signal.reason;
    return this.closer.signal(wait.signal);
  }
}

/**
 * A named, robust, cross-process mutex. It belongs to the process that took it (whichever
 * thread waited); when the owner dies holding it, the next locker gets it with
 * `{ ownerDied: true }`.
 */
export class Mutex extends SyncHandle {
  readonly #lock: RobustLock;

  private constructor(words: SharedWords) {
    super(words);
    this.#lock = new RobustLock(words, WORD_A, WORD_B);
  }

  static create(name: string, options?: SyncCreateOptions): Mutex {
    return new Mutex(makeWords("mutex", "Mutex", name, options));
  }

  static open(name: string): Mutex {
    return new Mutex(openWords("mutex", "Mutex", name));
  }

  static unlink(name: string): void {
    SharedWords.unlink("sync", "Mutex", checkObjectName(name));
  }

  async lock(options?: WaitOptions): Promise<LockResult> {
    this.ensureOpen();
    const wait = parseWait(options, "lock");
    const fast = this.#lock.try();
    if (fast !== undefined) return { ownerDied: fast === LOCKED_OWNER_DIED };
    const got = await this.#lock.lock(wait.deadline, this.asyncSignal(wait));
    if (got === TIMED_OUT) throw timeoutError(`${this.describe()} lock`, wait.timeout ?? 0);
    return { ownerDied: got === LOCKED_OWNER_DIED };
  }

  lockSync(options?: SyncWaitOptions): LockResult {
    this.ensureOpen();
    const wait = parseWait(options, "lockSync");
    const got = this.#lock.lockSync(wait.deadline);
    if (got === TIMED_OUT) throw timeoutError(`${this.describe()} lockSync`, wait.timeout ?? 0);
    return { ownerDied: got === LOCKED_OWNER_DIED };
  }

  /** Takes the lock if it is free (or its owner is dead); false if another process holds it. */
  tryLock(): LockResult | false {
    this.ensureOpen();
    const got = this.#lock.try();
    return got === undefined ? false : { ownerDied: got === LOCKED_OWNER_DIED };
  }

  /** Releases the lock; ERR_IPC_PERMISSION unless this process holds it. */
  unlock(): void {
    this.ensureOpen();
    if (!this.#lock.heldByThisProcess()) {
      throw new IpcError("ERR_IPC_PERMISSION", `${this.describe()} is not locked by this process`);
    }
    this.#lock.unlock();
  }

  /** Whether some process holds it right now (a snapshot). */
  get locked(): boolean {
    this.ensureOpen();
    return this.#lock.ownerPid !== 0;
  }

  protected describe(): string {
    return `Mutex ${JSON.stringify(this.w.name)}`;
  }
}

/** A named counting semaphore: counts are kept in shared memory, never lost or invented. */
export class Semaphore extends SyncHandle {
  static create(name: string, options?: SemaphoreCreateOptions): Semaphore {
    const opts = checkOptions<SemaphoreCreateOptions>(options, "Semaphore.create");
    const value = checkInteger(opts.value ?? 1, "value", 0, MAX_VALUE);
    return new Semaphore(makeWords("semaphore", "Semaphore", name, opts, (w) => Atomics.store(w.i32, WORD_A, value)));
  }

  static open(name: string): Semaphore {
    return new Semaphore(openWords("semaphore", "Semaphore", name));
  }

  static unlink(name: string): void {
    SharedWords.unlink("sync", "Semaphore", checkObjectName(name));
  }

  /** The count right now (a snapshot). */
  get value(): number {
    this.ensureOpen();
    return Atomics.load(this.w.i32, WORD_A);
  }

  tryAcquire(): boolean {
    this.ensureOpen();
    const i32 = this.w.i32;
    let v = Atomics.load(i32, WORD_A);
    while (v > 0) {
      const seen = Atomics.compareExchange(i32, WORD_A, v, v - 1);
      if (seen === v) return true;
      v = seen;
    }
    return false;
  }

  acquireSync(options?: SyncWaitOptions): void {
    this.ensureOpen();
    const wait = parseWait(options, "acquireSync");
    const i32 = this.w.i32;
    while (!this.tryAcquire()) {
      Atomics.add(i32, WORD_B, 1);
      let ok = true;
      try {
        if (Atomics.load(i32, WORD_A) <= 0) ok = this.w.waitSync(WORD_A, 0, wait.deadline);
      } finally {
        Atomics.sub(i32, WORD_B, 1);
      }
      if (!ok && !this.tryAcquire()) throw timeoutError(`${this.describe()} acquireSync`, wait.timeout ?? 0);
      if (!ok) return;
    }
  }

  async acquire(options?: WaitOptions): Promise<void> {
    this.ensureOpen();
    const wait = parseWait(options, "acquire");
    if (this.tryAcquire()) return;
    const signal = this.asyncSignal(wait);
    const i32 = this.w.i32;
    for (;;) {
      Atomics.add(i32, WORD_B, 1);
      let ok = true;
      try {
        if (Atomics.load(i32, WORD_A) <= 0) ok = await this.w.waitAsync(WORD_A, 0, wait.deadline, signal);
      } finally {
        if (!this.closed) Atomics.sub(i32, WORD_B, 1);
      }
      this.ensureOpen();
      if (this.tryAcquire()) return;
      if (!ok) throw timeoutError(`${this.describe()} acquire`, wait.timeout ?? 0);
    }
  }

  /** Adds one to the count and wakes one waiter. */
  release(): void {
    this.ensureOpen();
    const i32 = this.w.i32;
    const before = Atomics.add(i32, WORD_A, 1);
    if (before >= MAX_VALUE || before < 0) {
      Atomics.sub(i32, WORD_A, 1);
      throw new IpcError("ERR_IPC_LIMIT", `${this.describe()} cannot count above ${MAX_VALUE}`);
    }
    if (Atomics.load(i32, WORD_B) > 0) this.w.wake(WORD_A, 1);
  }

  protected describe(): string {
    return `Semaphore ${JSON.stringify(this.w.name)}`;
  }
}

/** Python's multiprocessing.Event across processes: `set()` wakes every waiter in every process. */
export class IpcEvent extends SyncHandle {
  static create(name: string, options?: SyncCreateOptions): IpcEvent {
    return new IpcEvent(makeWords("event", "IpcEvent", name, options));
  }

  static open(name: string): IpcEvent {
    return new IpcEvent(openWords("event", "IpcEvent", name));
  }

  static unlink(name: string): void {
    SharedWords.unlink("sync", "IpcEvent", checkObjectName(name));
  }

  isSet(): boolean {
    this.ensureOpen();
    return Atomics.load(this.w.i32, WORD_A) === 1;
  }

  set(): void {
    this.ensureOpen();
    const i32 = this.w.i32;
    Atomics.store(i32, WORD_A, 1);
    Atomics.add(i32, WORD_C, 1);
    if (Atomics.load(i32, WORD_B) > 0) this.w.wake(WORD_C, EVERYONE);
  }

  clear(): void {
    this.ensureOpen();
    Atomics.store(this.w.i32, WORD_A, 0);
  }

  /** Returns once the flag is set (or was set since the call began, even if cleared again). */
  waitSync(options?: SyncWaitOptions): void {
    this.ensureOpen();
    const wait = parseWait(options, "waitSync");
    const i32 = this.w.i32;
    const gen = Atomics.load(i32, WORD_C);
    while (Atomics.load(i32, WORD_A) !== 1) {
      Atomics.add(i32, WORD_B, 1);
      let ok = true;
      try {
        if (Atomics.load(i32, WORD_C) === gen && Atomics.load(i32, WORD_A) !== 1) ok = this.w.waitSync(WORD_C, gen, wait.deadline);
      } finally {
        Atomics.sub(i32, WORD_B, 1);
      }
      if (Atomics.load(i32, WORD_C) !== gen) return;
      if (!ok) throw timeoutError(`${this.describe()} waitSync`, wait.timeout ?? 0);
    }
  }

  async wait(options?: WaitOptions): Promise<void> {
    this.ensureOpen();
    const wait = parseWait(options, "wait");
    const i32 = this.w.i32;
    const gen = Atomics.load(i32, WORD_C);
    if (Atomics.load(i32, WORD_A) === 1) return;
    const signal = this.asyncSignal(wait);
    for (;;) {
      Atomics.add(i32, WORD_B, 1);
      let ok = true;
      try {
        if (Atomics.load(i32, WORD_C) === gen && Atomics.load(i32, WORD_A) !== 1) {
          ok = await this.w.waitAsync(WORD_C, gen, wait.deadline, signal);
        }
      } finally {
        if (!this.closed) Atomics.sub(i32, WORD_B, 1);
      }
      this.ensureOpen();
      if (Atomics.load(i32, WORD_C) !== gen || Atomics.load(i32, WORD_A) === 1) return;
      if (!ok) throw timeoutError(`${this.describe()} wait`, wait.timeout ?? 0);
    }
  }

  protected describe(): string {
    return `IpcEvent ${JSON.stringify(this.w.name)}`;
  }
}
