// The hand-written Node-API callbacks behind the Sync and try forms (mqFastPath, sysvFastPath)
// check their own arguments: anything from JS ends in a thrown error, never a crash.
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { capabilities } from "../dist/index.js";
import { fromNativeError } from "../dist/errors.js";
import { uniqueName } from "./helpers.js";

const binding = capabilities.messageQueue ? createRequire(import.meta.url)("../dist/native/binding.cjs") : undefined;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

const junk: unknown[] = [undefined, null, "1", {}, [], -1, 1.5, NaN, 2 ** 40, new Float64Array(4), new ArrayBuffer(8), Symbol("x")];

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    const e = fromNativeError(error) as { code?: string };
    return e.code ?? "thrown";
  }
  return "returned";
}

describe.runIf(capabilities.messageQueue)("mqFastPath (raw Node-API callbacks)", () => {
  function open() {
    const name = `/${uniqueName("ipckit-mqfp").slice(0, 28)}`;
    const q = binding.NativeMessageQueue.open(name, true, true, 4, 64, 0o600);
    cleanups.push(() => {
      q.close();
      binding.mqUnlink(name);
    });
    return { q, h: q.fastHandle() as number, f: binding.mqFastPath() };
  }

  it("sends and receives with good arguments", () => {
    const { h, f } = open();
    expect(f.trySend(h, new Uint8Array([1, 2, 3]), 5)).toBe(true);
    f.sendSync(h, new Uint8Array(0), 0, undefined);
    const buf = new Uint8Array(256);
    expect(f.receiveInto(h, buf, 8, false, undefined)).toBe(3);
    expect([...buf.subarray(8, 11)]).toEqual([1, 2, 3]);
    expect(binding.mqLastPriority()).toBe(5);
    expect(f.receiveInto(h, buf, 0, true, 100)).toBe(0);
    expect(f.receiveInto(h, buf, 0, false, undefined)).toBe(-1);
  });

  it("throws (never crashes) on bad arguments, before any syscall", () => {
    const { h, f } = open();
    const buf = new Uint8Array(256);
    for (const x of junk) {
      if (typeof x !== "number") expect(codeOf(() => f.trySend(x, buf, 0))).toBe("ERR_IPC_INVALID_ARGUMENT");
      expect(codeOf(() => f.trySend(h, x, 0))).toBe("ERR_IPC_INVALID_ARGUMENT");
      expect(codeOf(() => f.sendSync(h, x, 0, undefined))).toBe("ERR_IPC_INVALID_ARGUMENT");
      expect(codeOf(() => f.receiveInto(h, x, 0, false, undefined))).toBe("ERR_IPC_INVALID_ARGUMENT");
      if (typeof x !== "boolean") expect(codeOf(() => f.receiveInto(h, buf, 0, x, undefined))).toBe("ERR_IPC_INVALID_ARGUMENT");
    }
    expect(codeOf(() => f.trySend(h))).toBe("ERR_IPC_INVALID_ARGUMENT");
    expect(codeOf(() => f.receiveInto())).toBe("ERR_IPC_INVALID_ARGUMENT");
    // Too large for the queue, a buffer too small, an offset past the end, a stale handle.
    expect(codeOf(() => f.trySend(h, new Uint8Array(65), 0))).toBe("ERR_IPC_TOO_LARGE");
    expect(codeOf(() => f.receiveInto(h, new Uint8Array(63), 0, false, undefined))).toBe("ERR_IPC_INVALID_ARGUMENT");
    expect(codeOf(() => f.receiveInto(h, buf, 2 ** 31, false, undefined))).toBe("ERR_IPC_INVALID_ARGUMENT");
    expect(codeOf(() => f.trySend(h + 1000, buf.subarray(0, 1), 0))).toBe("ERR_IPC_CLOSED");
    // Queue state unchanged: nothing was sent by any bad call.
    expect(f.receiveInto(h, buf, 0, false, undefined)).toBe(-1);
  });
});

describe.runIf(capabilities.sysvMessageQueue)("sysvFastPath (raw Node-API callbacks)", () => {
  it("throws (never crashes) on bad arguments", () => {
    const f = binding.sysvFastPath();
    const buf = new Uint8Array(16);
    for (const x of junk) {
      expect(codeOf(() => f.trySend(1, x, 1))).toBe("ERR_IPC_INVALID_ARGUMENT");
      expect(codeOf(() => f.receiveInto(0, x, 0, 0, false, undefined))).toBe("ERR_IPC_INVALID_ARGUMENT");
    }
    // A handle no queue has.
    expect(codeOf(() => f.sendSync(0xfffffff, buf, 1, undefined))).toBe("ERR_IPC_CLOSED");
  });
});
