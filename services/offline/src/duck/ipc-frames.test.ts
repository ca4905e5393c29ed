import { describe, expect, it } from "@jest/globals";
import { create, fromBinary } from "@bufbuild/protobuf";
import { GetTrainingDataResponseSchema, ReadResponseSchema } from "@granary/proto/offline";
import * as arrow from "apache-arrow";
import { chunkResponse, IpcFrameWriter } from "./ipc-frames.js";

/** What the grpc-js send path does with a pre-encoded response: copy its bytes, then call its hook. */
function send(ipc: Uint8Array): Uint8Array {
  const response = chunkResponse(ipc) as unknown as Record<symbol, unknown>;
  const symbols = Object.getOwnPropertySymbols(response);
  const bytes = symbols.map((s) => response[s]).find((v): v is Uint8Array => v instanceof Uint8Array)!;
  const copy = bytes.slice();
  const hook = symbols.map((s) => response[s]).find((v): v is () => void => typeof v === "function");
  hook?.();
  return copy;
}

const table = (n: number, from = 0) =>
  new arrow.Table({
    i: arrow.vectorFromArray(
      Array.from({ length: n }, (_, k) => (k % 7 === 3 ? null : BigInt(from + k))),
      new arrow.Int64(),
    ),
    x: arrow.vectorFromArray(
      Array.from({ length: n }, (_, k) => (from + k) / 4),
      new arrow.Float64(),
    ),
    b: arrow.vectorFromArray(
      Array.from({ length: n }, (_, k) => (k % 5 === 0 ? null : k % 2 === 0)),
      new arrow.Bool(),
    ),
    s: arrow.vectorFromArray(
      Array.from({ length: n }, (_, k) => (k % 11 === 0 ? null : `row ${from + k}`)),
      new arrow.Utf8(),
    ),
  });

describe("IpcFrameWriter", () => {
  it("writes one IPC stream whose messages decode as responses, each batch whole in one message when it fits", () => {
    const batches = [table(1000, 0), table(1000, 1000), table(300, 2000)].map((t) => t.batches[0]!);
    const writer = new IpcFrameWriter(batches[0]!.schema, 64 * 1024);
    const messages = [...batches.flatMap((b) => writer.write(b)), ...writer.finish()];
    const wire = messages.map(send);
    const ipc = wire.map((w) => fromBinary(GetTrainingDataResponseSchema, w).chunk!.ipc);
    expect(ipc.map((m) => m.byteLength)).toEqual(messages.map((m) => m.byteLength));
    // Messages are cut between batches: each starts with an IPC message's continuation marker.
    for (const m of ipc) expect(Array.from(m.subarray(0, 4))).toEqual([0xff, 0xff, 0xff, 0xff]);
    const out = arrow.tableFromIPC(ipc);
    const expected = new arrow.Table(batches);
    expect(out.numRows).toBe(2300);
    expect(out.batches.map((b) => b.numRows)).toEqual([1000, 1000, 300]);
    for (const r of [0, 3, 5, 11, 999, 1000, 2299]) expect(out.get(r)?.toJSON()).toEqual(expected.get(r)?.toJSON());
  });

  it("puts the IPC bytes 16 bytes into a gRPC message (behind its 5-byte header), 8-byte aligned", () => {
    const writer = new IpcFrameWriter(table(10).schema, 4096);
    const [message] = [...writer.write(table(10).batches[0]!), ...writer.finish()];
    const wire = send(message!);
    expect(wire.byteLength - message!.byteLength).toBe(11);
    expect(fromBinary(ReadResponseSchema, wire).chunk!.ipc.byteOffset).toBe(11);
  });

  it("gives a client in the same process (which reads fields, never sends) the same chunk", () => {
    const writer = new IpcFrameWriter(table(10).schema, 4096);
    const [message] = [...writer.write(table(10).batches[0]!), ...writer.finish()];
    const expected = message!.slice();
    const response = create(GetTrainingDataResponseSchema, chunkResponse(message!));
    expect(Array.from(response.chunk!.ipc)).toEqual(Array.from(expected));
  });

  it("cuts a batch larger than a message across messages of at most that size", () => {
    const big = table(20_000).batches[0]!;
    const writer = new IpcFrameWriter(big.schema, 16 * 1024);
    const messages = [...writer.write(big), ...writer.finish()];
    expect(messages.length).toBeGreaterThan(10);
    expect(Math.max(...messages.map((m) => m.byteLength))).toBeLessThanOrEqual(16 * 1024);
    const out = arrow.tableFromIPC(messages.map((m) => fromBinary(ReadResponseSchema, send(m)).chunk!.ipc));
    expect(out.get(19_999)?.toJSON()).toEqual(table(20_000).get(19_999)?.toJSON());
  });

  it("reuses a buffer only once it was sent, and never changes bytes handed out otherwise", () => {
    const writer = new IpcFrameWriter(table(10).schema, 4096);
    const kept: Uint8Array[] = [];
    for (let i = 0; kept.length === 0; i++) kept.push(...writer.write(table(100, i * 100).batches[0]!));
    const copies = kept.map((m) => m.slice());
    for (let i = 0; i < 20; i++) for (const m of writer.write(table(100, i * 100).batches[0]!)) send(m);
    expect(kept.map((m) => Array.from(m))).toEqual(copies.map((m) => Array.from(m)));
    // Bytes not made by a writer travel in a plain message.
    const plain = new Uint8Array([1, 2, 3]);
    expect(chunkResponse(plain)).toEqual({ chunk: { ipc: plain } });
  });
});
