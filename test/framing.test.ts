import { describe, expect, it } from "vitest";
import { FrameDecoder, frameHeader, frameSmall } from "../dist/framing.js";
import { decode, encode, getCodec } from "../dist/index.js";
import { expectCode, runtime } from "./helpers.js";

/** A stream of frames cut at random points must decode to the same messages. */
function roundTrip(sizes: number[], seed: number, max = 64 * 1024 * 1024): Uint8Array[] {
  let state = seed;
  const random = (n: number): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
  const parts: Uint8Array[] = [];
  for (const [i, n] of sizes.entries()) {
    const payload = new Uint8Array(n).map((_, j) => (i * 31 + j) & 255);
    if (random(2) === 0) parts.push(frameSmall(payload));
    else parts.push(frameHeader(n), payload);
  }
  const stream = Buffer.concat(parts);
  const got: Uint8Array[] = [];
  const decoder = new FrameDecoder(max, {
    frame: (p) => got.push(Uint8Array.from(p)),
    corrupt: (e) => {
      throw e;
    },
  });
  for (let at = 0; at < stream.length; ) {
    const step = 1 + random(random(4) === 0 ? 300_000 : 9);
    decoder.push(stream.subarray(at, at + step));
    at += step;
  }
  expect(decoder.atBoundary).toBe(true);
  return got;
}

describe("framing", () => {
  it("decodes frames cut at any point, small and large, assembled in place or joined", () => {
    const sizes = [0, 1, 4, 5, 100, 65_535, 65_536, 65_537, 70_000, 1_048_576, 3, 200_000, 0, 2];
    for (const seed of [1, 2, 3, 4, 5]) {
      const got = roundTrip(sizes, seed);
      expect(got.map((g) => g.length)).toEqual(sizes);
      for (const [i, g] of got.entries()) {
        for (const j of [0, g.length >> 1, g.length - 1]) if (g.length > 0) expect(g[j]).toBe((i * 31 + j) & 255);
      }
    }
  });

  it("writes Python's multiprocessing.connection header (big-endian int32)", () => {
    expect([...frameHeader(258)]).toEqual([0, 0, 1, 2]);
    expect([...frameSmall(new Uint8Array([9]))]).toEqual([0, 0, 0, 1, 9]);
  });

  it("reports a negative length or an oversized frame as corrupt, from the header alone", () => {
    const errors: string[] = [];
    const sink = { frame: () => errors.push("frame"), corrupt: (e: { code: string }) => errors.push(e.code) };
    new FrameDecoder(100, sink).push(new Uint8Array([0xff, 0, 0, 0]));
    new FrameDecoder(100, sink).push(new Uint8Array([0, 0, 0, 101]));
    expect(errors).toEqual(["ERR_IPC_PROTOCOL", "ERR_IPC_TOO_LARGE"]);
  });
});

describe("codec", () => {
  it("encodes and decodes by name", () => {
    expect(decode("json", encode("json", { a: [1] }))).toEqual({ a: [1] });
    expect(decode("msgpack", encode("msgpack", { a: [1], b: null }))).toEqual({ a: [1], b: null });
    expect([...(decode("bytes", encode("bytes", "hi")) as Uint8Array)]).toEqual([104, 105]);
    expect([...(decode("auto", encode("auto", new Uint8Array([7]))) as Uint8Array)]).toEqual([7]);
    expect(decode("auto", encode("auto", "text"))).toBe("text");
    if (runtime !== "bun") expect(decode("structured", encode("structured", new Map([[1, 2n]])))).toEqual(new Map([[1, 2n]]));
  });

  it("refuses unknown codecs, unencodable values and undecodable bytes", async () => {
    await expectCode(() => getCodec("xml"), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => encode("json", 10n), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => encode("bytes", 5), "ERR_IPC_INVALID_ARGUMENT");
    await expectCode(() => decode("json", new Uint8Array([0x7b])), "ERR_IPC_PROTOCOL");
    await expectCode(() => decode("auto", new Uint8Array([0x00])), "ERR_IPC_PROTOCOL");
    if (runtime === "bun") await expectCode(() => encode("structured", {}), "ERR_IPC_UNSUPPORTED");
  });
});
