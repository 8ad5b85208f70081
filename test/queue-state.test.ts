// The js backend's queue host (src/fallback/queue-state.ts) on its own: every decision is made
// there, so these are the exactly-once rules, checked without sockets or workers.
import { describe, expect, it } from "vitest";
import { Op, Status, type Reply } from "../dist/fallback/queue-protocol.js";
import { QueueState } from "../dist/fallback/queue-state.js";

function requester(): { replies: Reply[]; reply: (r: Reply) => void } {
  const replies: Reply[] = [];
  return { replies, reply: (r) => replies.push(r) };
}
const item = (n: number) => new Uint8Array([n]);

describe("QueueState (js backend host)", () => {
  it("hands a put straight to the first waiting getter; a cancelled getter gets nothing", () => {
    const state = new QueueState({ maxsize: 0, codecId: 2, maxItem: 0 });
    const a = requester();
    const b = requester();
    state.handle(a, { id: 1, op: Op.get, arg: -1 });
    state.handle(b, { id: 1, op: Op.get, arg: -1 });
    state.handle(a, { id: 2, op: Op.cancel, arg: 1 });
    expect(a.replies).toEqual([{ id: 1, status: Status.cancelled, arg: 0 }]);
    state.handle(a, { id: 3, op: Op.put, arg: -1, bytes: item(7) });
    expect(b.replies).toEqual([{ id: 1, status: Status.ok, arg: 0, bytes: item(7) }]);
    // Cancelling a wait already served changes nothing: the item stays delivered once.
    state.handle(b, { id: 2, op: Op.cancel, arg: 1 });
    expect(b.replies).toHaveLength(1);
    state.handle(a, { id: 4, op: Op.size, arg: 0 });
    expect(a.replies.at(-1)).toMatchObject({ id: 4, arg: 0 });
  });

  it("holds puts while full, admits them in order as gets make room, and forgets a dropped requester", () => {
    const state = new QueueState({ maxsize: 1, codecId: 2, maxItem: 0 });
    const p = requester();
    const gone = requester();
    const c = requester();
    state.handle(p, { id: 1, op: Op.put, arg: -1, bytes: item(1) });
    state.handle(gone, { id: 1, op: Op.put, arg: -1, bytes: item(2) });
    state.handle(p, { id: 2, op: Op.put, arg: -1, bytes: item(3) });
    state.handle(p, { id: 3, op: Op.put, arg: 0, bytes: item(4) });
    expect(p.replies.map((r) => [r.id, r.status])).toEqual([
      [1, Status.ok],
      [3, Status.busy],
    ]);
    state.drop(gone);
    state.handle(c, { id: 1, op: Op.get, arg: 0 });
    state.handle(c, { id: 2, op: Op.get, arg: 0 });
    state.handle(c, { id: 3, op: Op.get, arg: 0 });
    expect(c.replies.map((r) => r.bytes?.[0] ?? r.status)).toEqual([1, 3, Status.busy]);
    expect(gone.replies).toEqual([]);
  });

  it("times a wait out at the host", async () => {
    const state = new QueueState({ maxsize: 0, codecId: 2, maxItem: 4 });
    const a = requester();
    state.handle(a, { id: 1, op: Op.get, arg: 10 });
    state.handle(a, { id: 2, op: Op.put, arg: -1, bytes: new Uint8Array(5) });
    await new Promise((r) => setTimeout(r, 50));
    expect(a.replies.map((r) => r.status)).toEqual([Status.error, Status.timeout]);
  });
});
