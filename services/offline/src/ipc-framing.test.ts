import { describe, expect, it } from "@jest/globals";
import * as arrow from "apache-arrow";
import { IpcFraming } from "./ipc-framing.js";

const stream = (v: number[]) => arrow.tableToIPC(new arrow.Table({ v: arrow.vectorFromArray(v, new arrow.Float64()) }), "stream");
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.byteLength));
  return out;
};

describe("IpcFraming", () => {
  it("accepts one stream ending with its marker, whole or byte by byte", () => {
    for (const pieces of [[stream([1, 2])], Array.from(stream([1, 2]), (b) => new Uint8Array([b]))]) {
      const framing = new IpcFraming();
      for (const p of pieces) framing.push(p);
      expect(framing.ended).toBe(true);
      expect(framing.problem).toBeUndefined();
    }
  });

  it("flags a second stream appended in the same chunk", () => {
    const framing = new IpcFraming();
    framing.push(concat(stream([1]), stream([2])));
    expect(framing.ended).toBe(true);
    expect(framing.problem).toMatch(/follow its end-of-stream marker/);
  });

  it("flags a second stream sent as a later chunk", () => {
    const framing = new IpcFraming();
    framing.push(stream([1]));
    expect(framing.problem).toBeUndefined();
    framing.push(stream([2]));
    expect(framing.problem).toMatch(/follow its end-of-stream marker/);
  });

  it("flags a second schema before any marker", () => {
    const first = stream([1]);
    const framing = new IpcFraming();
    framing.push(concat(first.subarray(0, first.byteLength - 8), stream([2])));
    expect(framing.problem).toMatch(/second schema/);
  });

  it("waits for the marker when it is missing", () => {
    const first = stream([1]);
    const framing = new IpcFraming();
    framing.push(first.subarray(0, first.byteLength - 8));
    expect(framing.ended).toBe(false);
    expect(framing.problem).toBeUndefined();
  });
});
