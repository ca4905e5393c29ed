import { describe, expect, it } from "@jest/globals";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import {
  FeatureVectorsSchema,
  GetFeatureVectorsResponseSchema,
  GetModelFeatureVectorsResponseSchema,
  OnlineService,
  type FeatureVectors,
} from "@granary/proto/online";
import { DataTypeSchema, ValueStatus, type DataType } from "@granary/proto/types";
import { parseType } from "./column-types.js";
import { decodeVectors } from "./feature-view.js";
import { vectorBatch, vectorBatchOfMessage, withStatuses, type VectorsWithStatus } from "./feature-vector-batch.js";
import { callWithRawField } from "./raw-field-call.js";
import { columnDecoder, type Row } from "./values.js";
import { statusName, type ValueStatusName } from "./value-status.js";

/**
 * The decoder the SDK used before typed arrays (protobuf-es messages → rows): the oracle. (A column
 * without a type, which it crashed on, reads as the lean decoder reads it: untyped.)
 */
function oracle(vectors: FeatureVectors | undefined): VectorsWithStatus {
  const n = vectors?.rowCount ?? 0;
  const columns = (vectors?.columns ?? []).map((c) => ({
    name: c.name,
    statuses: c.statuses,
    read: columnDecoder(c.values, c.type ?? create(DataTypeSchema)),
  }));
  const rows: Row[] = new Array(n);
  const statuses: Record<string, ValueStatusName>[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row: Row = {};
    const status: Record<string, ValueStatusName> = {};
    for (const c of columns) {
      const s = c.statuses[i] ?? ValueStatus.NOT_FOUND;
      status[c.name] = statusName(s);
      row[c.name] = s === ValueStatus.PRESENT ? c.read(i) : null;
    }
    rows[i] = row;
    statuses[i] = status;
  }
  return { rows, statuses };
}

// 9 below is a status this SDK does not know: it reads as NOT_FOUND, its value as null.
const { PRESENT: P, NULL: N, NOT_FOUND: F, EXPIRED: E } = ValueStatus;
const T = (name: string): DataType => parseType(name) as DataType;
type Init = MessageInitShape<typeof FeatureVectorsSchema>;

/** Every column kind, with nulls (statuses and null indexes), an unknown status and extreme values. */
const everyKind: Init = {
  rowCount: 4,
  columns: [
    { name: "b", type: T("bool"), values: { values: { case: "bools", value: { values: [true, false, true, false] } } }, statuses: [P, P, N, F] },
    { name: "i", type: T("int32"), values: { values: { case: "int32s", value: { values: [-1, 2147483647, -2147483648, 0] } } }, statuses: [P, P, P, E] },
    {
      name: "l",
      type: T("int64"),
      values: { values: { case: "int64s", value: { values: [-1n, 9007199254740991n, 9007199254740993n, -9223372036854775808n] } } },
      statuses: [P, P, P, P],
    },
    {
      name: "l2",
      type: T("int64"),
      values: { values: { case: "int64s", value: { values: [-9007199254740991n, -9007199254740992n, 4294967296n, 0n] } } },
      statuses: [P, P, P, 9 as ValueStatus],
    },
    { name: "f", type: T("float"), values: { values: { case: "floats", value: { values: [1.5, -0.1, 3.4e38, Number.NaN] } } }, statuses: [P, P, P, P] },
    { name: "d", type: T("double"), values: { values: { case: "doubles", value: { values: [0.1, -0, Infinity, Number.NaN] } } }, statuses: [P, P, P, P] },
    {
      name: "s",
      type: T("string"),
      values: { values: { case: "strings", value: { values: ["a", "", "ünïcødé ✓", "x".repeat(200)] } } },
      statuses: [P, P, P, N],
    },
    {
      name: "y",
      type: T("bytes"),
      values: { values: { case: "bytes", value: { values: [new Uint8Array([1, 2]), new Uint8Array(), new Uint8Array([255]), new Uint8Array([0])] } } },
      statuses: [P, P, P, P],
    },
    {
      name: "t",
      type: T("timestamp"),
      // Before 1970 with sub-millisecond digits (truncated toward zero), now, and beyond 2^53 µs.
      values: { values: { case: "timestamps", value: { values: [-1_500n, 1_733_550_000_123_456n, 0n, 9_007_199_254_740_993n] } } },
      statuses: [P, P, P, P],
    },
    { name: "dt", type: T("date"), values: { values: { case: "dates", value: { values: [0, -1, 20_000, 2_000_000] } } }, statuses: [P, P, P, P] },
    {
      name: "li",
      type: T("list<int64>"),
      values: {
        values: { case: "lists", value: { offsets: [0, 2, 2, 3, 3], items: { values: { case: "int64s", value: { values: [1n, 2n ** 60n, -3n] } } } } },
        nullIndexes: [3],
      },
      statuses: [P, P, P, P],
    },
    {
      name: "lf",
      type: T("embedding<2>"),
      values: { values: { case: "lists", value: { offsets: [0, 2, 4, 4, 6], items: { values: { case: "floats", value: { values: [1, 2, 3, 4, 5, 6] } } } } } },
      statuses: [P, P, N, P],
    },
    {
      name: "ls",
      type: T("list<string>"),
      values: {
        values: {
          case: "lists",
          value: { offsets: [0, 1, 3, 3, 3], items: { values: { case: "strings", value: { values: ["x", "y", "z"] } }, nullIndexes: [1] } },
        },
      },
      statuses: [P, P, P, P],
    },
    {
      name: "lt",
      type: T("list<timestamp>"),
      values: { values: { case: "lists", value: { offsets: [0, 1, 1, 1, 1], items: { values: { case: "timestamps", value: { values: [1_000_999n] } } } } } },
      statuses: [P, P, P, P],
    },
    { name: "n", type: T("double"), values: { values: { case: "doubles", value: { values: [1, 2, 3, 4] } }, nullIndexes: [0, 2] }, statuses: [P, P, P, P] },
    { name: "unset", type: T("double"), statuses: [P, N, F, E] },
  ],
  eventTimes: [{ featureGroup: { name: "g", version: 2 }, micros: [1n, 0n, -5n, 2n ** 62n] }],
};

const bytesOf = (init: Init) => toBinary(FeatureVectorsSchema, create(FeatureVectorsSchema, init));

/** The lean decoder's rows and statuses, checked against the oracle's on the protobuf-es parse of the same bytes. */
function expectSameAsOracle(bytes: Uint8Array) {
  const message = fromBinary(FeatureVectorsSchema, bytes);
  const batch = vectorBatch(bytes, message.rowCount);
  const expected = oracle(message);
  expect(batch.rows).toEqual(expected.rows);
  expect(batch.statuses).toEqual(expected.statuses);
  return batch;
}

describe("the lean vector decoder", () => {
  it("gives the rows and statuses of the protobuf-es path for every column kind", () => {
    const batch = expectSameAsOracle(bytesOf(everyKind));
    expect(batch.rows[0]).toMatchObject({ b: true, i: -1, l: -1, t: new Date(-1), dt: new Date(0), li: [1, 2n ** 60n], lf: [1, 2], ls: ["x"] });
    expect(batch.rows[1]).toMatchObject({ l: 9007199254740991, l2: -9007199254740992n, d: -0, li: [], lf: [3, 4], ls: [null, "z"] });
    expect(batch.rows[2]).toMatchObject({ l: 9007199254740993n, b: null, lf: null, n: null, t: new Date(0) });
    expect(batch.rows[3]).toMatchObject({ l2: null, li: null, s: null, unset: null, dt: new Date(2_000_000 * 86_400_000) });
    expect(batch.status(3, "l2")).toBe("NOT_FOUND");
    expect(batch.status(0, "nope")).toBeUndefined();
    expect(batch.eventTimes).toEqual([{ featureGroup: { name: "g", version: 2 }, micros: BigInt64Array.from([1n, 0n, -5n, 2n ** 62n]) }]);
  });

  it("exposes numeric columns as typed arrays, lists as offsets into their items", () => {
    const batch = vectorBatch(bytesOf(everyKind), 4);
    expect(batch.columns.map((c) => c.name)).toEqual(everyKind.columns!.map((c) => c.name));
    expect(batch.column("d")!.values).toBeInstanceOf(Float64Array);
    expect(batch.column("f")!.values).toEqual(Float32Array.from([1.5, -0.1, 3.4e38, Number.NaN]));
    expect(batch.column("i")!.values).toBeInstanceOf(Int32Array);
    expect(batch.column("dt")!.values).toBeInstanceOf(Int32Array);
    expect(batch.column("l")!.values).toEqual(BigInt64Array.from([-1n, 9007199254740991n, 9007199254740993n, -9223372036854775808n]));
    expect(batch.column("t")!.values).toBeInstanceOf(BigInt64Array);
    expect(batch.column("b")!.values).toEqual(Uint8Array.from([1, 0, 1, 0]));
    expect(batch.column("s")!.values).toEqual(["a", "", "ünïcødé ✓", "x".repeat(200)]);
    expect(batch.column("b")!.statuses).toEqual(Uint8Array.from([P, P, N, F]));
    const emb = batch.column("lf")!;
    expect(emb.values).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6]));
    expect(emb.offsets).toEqual(Uint32Array.from([0, 2, 4, 4, 6]));
    expect(emb.type).toMatchObject({ list: true, dimension: 2 });
    expect(batch.column("d")!.value(0)).toBe(0.1);
    expect(batch.column("unset")!.values).toEqual([]);
  });

  it("copies doubles out of an unaligned view of the response", () => {
    const inner = bytesOf({
      rowCount: 2,
      columns: [{ name: "d", type: T("double"), values: { values: { case: "doubles", value: { values: [1.25, -2.5] } } }, statuses: [P, P] }],
    });
    const shifted = new Uint8Array(inner.length + 3);
    shifted.set(inner, 3);
    const batch = vectorBatch(shifted.subarray(3), 2);
    expect(batch.column("d")!.values).toEqual(Float64Array.from([1.25, -2.5]));
    expect(batch.rows).toEqual([{ d: 1.25 }, { d: -2.5 }]);
  });

  it("reads unpacked repeated scalars, packed and unpacked runs mixed, and fields sent twice", () => {
    const w = new BinaryWriter();
    w.tag(1, WireType.Varint).uint32(3);
    const column = (write: (c: BinaryWriter) => void) => {
      w.tag(2, WireType.LengthDelimited).fork();
      write(w);
      w.join();
    };
    const statuses = (c: BinaryWriter, s: number[]) => s.forEach((v) => c.tag(4, WireType.Varint).int32(v));
    const type = (c: BinaryWriter, scalar: number, list = false) =>
      c.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int32(scalar).tag(2, WireType.Varint).bool(list).join();
    // doubles: one unpacked value, then a packed run of two.
    column((c) => {
      c.tag(1, WireType.LengthDelimited).string("d");
      type(c, 5);
      c.tag(3, WireType.LengthDelimited).fork().tag(5, WireType.LengthDelimited).fork();
      c.tag(1, WireType.Bit64).double(0.5);
      c.tag(1, WireType.LengthDelimited).fork().double(1.5).double(-2).join();
      c.join().join();
      statuses(c, [P, P, P]);
    });
    // int64s unpacked; the ColumnData (field 3) sent twice: the two halves merge.
    column((c) => {
      c.tag(1, WireType.LengthDelimited).string("l");
      type(c, 3);
      c.tag(3, WireType.LengthDelimited).fork().tag(3, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(-7n).join().join();
      c.tag(3, WireType.LengthDelimited)
        .fork()
        .tag(3, WireType.LengthDelimited)
        .fork()
        .tag(1, WireType.Varint)
        .int64(2n ** 63n - 1n)
        .tag(1, WireType.Varint)
        .int64(5n)
        .join()
        .join();
      c.tag(4, WireType.LengthDelimited).fork().int32(P).int32(P).join();
      statuses(c, [P]);
    });
    // floats, bools, int32 and uint32 null indexes and list offsets, all unpacked.
    column((c) => {
      c.tag(1, WireType.LengthDelimited).string("f");
      type(c, 4);
      c.tag(3, WireType.LengthDelimited).fork().tag(4, WireType.LengthDelimited).fork();
      [1, 2, 3].forEach((v) => c.tag(1, WireType.Bit32).float(v));
      c.join().tag(11, WireType.Varint).uint32(1).join();
      statuses(c, [P, P, P]);
    });
    column((c) => {
      c.tag(1, WireType.LengthDelimited).string("b");
      type(c, 1);
      c.tag(3, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork();
      [true, false, true].forEach((v) => c.tag(1, WireType.Varint).bool(v));
      c.join().join();
      statuses(c, [P, P, N]);
    });
    column((c) => {
      c.tag(1, WireType.LengthDelimited).string("i");
      type(c, 2);
      c.tag(3, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).fork();
      [-5, 0, 7].forEach((v) => c.tag(1, WireType.Varint).int32(v));
      c.join().join();
      statuses(c, [P, P, P]);
    });
    column((c) => {
      c.tag(1, WireType.LengthDelimited).string("li");
      type(c, 3, true);
      c.tag(3, WireType.LengthDelimited).fork().tag(10, WireType.LengthDelimited).fork();
      [0, 1, 1, 3].forEach((v) => c.tag(1, WireType.Varint).uint32(v));
      c.tag(2, WireType.LengthDelimited).fork().tag(3, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork().int64(9n).int64(8n).int64(7n);
      c.join().join().join().join().join();
      statuses(c, [P, P, P]);
    });
    // Fields this SDK does not know are skipped, groups too.
    w.tag(15, WireType.LengthDelimited).bytes(new Uint8Array([1, 2, 3]));
    w.tag(14, WireType.StartGroup).tag(1, WireType.Varint).uint32(5).tag(2, WireType.StartGroup).tag(2, WireType.EndGroup).tag(14, WireType.EndGroup);
    w.tag(13, WireType.Bit32).fixed32(1).tag(12, WireType.Bit64).fixed64(2n);
    const bytes = w.finish();
    const batch = expectSameAsOracle(bytes);
    expect(batch.rows).toEqual([
      { d: 0.5, l: -7, f: 1, b: true, i: -5, li: [9] },
      { d: 1.5, l: 2n ** 63n - 1n, f: null, b: false, i: 0, li: [] },
      { d: -2, l: 5, f: 3, b: null, i: 7, li: [8, 7] },
    ]);
  });

  it("decodes an empty batch, and a response without vectors", () => {
    const batch = expectSameAsOracle(
      bytesOf({ rowCount: 0, columns: [{ name: "d", type: T("double"), values: { values: { case: "doubles", value: { values: [] } } } }] }),
    );
    expect(batch.rows).toEqual([]);
    expect(batch.column("d")!.values).toEqual(new Float64Array());
    expect(vectorBatch(undefined, 0).rows).toEqual([]);
  });

  it("builds rows on first use, once: row(i) is rows[i], and results spread and serialise as plain objects", () => {
    const bytes = bytesOf({
      rowCount: 2,
      columns: [{ name: "x", type: T("double"), values: { values: { case: "doubles", value: { values: [1, 2] } } }, statuses: [P, N] }],
    });
    const batch = vectorBatch(bytes, 2);
    const first = batch.row(1);
    expect(batch.rows[1]).toBe(first);
    expect(batch.rows).toBe(batch.rows);
    expect(() => batch.row(2)).toThrow(RangeError);
    const result = withStatuses(batch, { modelVersion: 3 });
    expect({ ...result }).toEqual({ modelVersion: 3, rows: [{ x: 1 }, { x: null }], statuses: [{ x: "PRESENT" }, { x: "NULL" }] });
    expect(JSON.parse(JSON.stringify(result))).toEqual({ modelVersion: 3, rows: [{ x: 1 }, { x: null }], statuses: [{ x: "PRESENT" }, { x: "NULL" }] });
    const assigned = withStatuses(batch) as { rows: Row[] };
    assigned.rows = [];
    expect(assigned.rows).toEqual([]);
    expect(Object.getOwnPropertyDescriptor(result, "rows")).toMatchObject({ writable: true, enumerable: true });
    expect(Object.keys(result)).toEqual(["rows", "statuses", "modelVersion"]);
  });

  it("decodeVectors(message) gives what it always gave", () => {
    const message = create(FeatureVectorsSchema, everyKind);
    const expected = oracle(message);
    expect(decodeVectors(message)).toEqual(expected);
    expect(decodeVectors(undefined)).toEqual({ rows: [], statuses: [] });
    // A message built by hand keeps its exact values (a float that is no float32 stays as it is).
    const loose = create(FeatureVectorsSchema, {
      rowCount: 1,
      columns: [{ name: "f", type: T("float"), values: { values: { case: "floats", value: { values: [0.1] } } }, statuses: [P] }],
    });
    expect(decodeVectors(loose).rows).toEqual([{ f: 0.1 }]);
    expect(vectorBatchOfMessage(message).rows).toEqual(expected.rows);
  });
});

/** Dates as their time (jest's equality never equates two invalid Dates; corrupted bytes make some). */
const comparable = (v: unknown): unknown =>
  v instanceof Date
    ? { time: v.getTime() }
    : Array.isArray(v)
      ? v.map(comparable)
      : v && typeof v === "object" && !(v instanceof Uint8Array)
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, comparable(x)]))
        : v;

describe("malformed vectors", () => {
  const good = bytesOf(everyKind);
  const internal = (fn: () => unknown, message: RegExp) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Internal);
    expect((err as ConnectError).rawMessage).toMatch(message);
  };

  it("says what is wrong", () => {
    const vectors = (init: Init) => () => vectorBatch(bytesOf(init), init.rowCount ?? 0);
    const d = (values: number[]) => ({ values: { case: "doubles" as const, value: { values } } });
    internal(() => vectorBatch(good, 5), /4 rows for 5 entities/);
    internal(vectors({ rowCount: 2, columns: [{ name: "x", type: T("double"), values: d([1, 2]), statuses: [P] }] }), /column "x" has 1 statuses for 2 rows/);
    internal(vectors({ rowCount: 2, columns: [{ name: "x", type: T("double"), values: d([1]), statuses: [N, P] }] }), /column "x" has 1 values for 2 rows/);
    internal(
      vectors({
        rowCount: 1,
        columns: [{ name: "x", type: T("list<double>"), values: { values: { case: "lists", value: { offsets: [0, 3], items: d([1]) } } }, statuses: [P] }],
      }),
      /column "x" \(list items\) has 1 values for 3 rows/,
    );
    internal(
      vectors({
        rowCount: 2,
        columns: [
          { name: "x", type: T("list<double>"), values: { values: { case: "lists", value: { offsets: [0, 1, 0], items: d([1]) } } }, statuses: [P, P] },
        ],
      }),
      /list offsets decrease/,
    );
    // A packed double run of 7 bytes; a varint of 11 bytes; a row count sent as a string.
    const w = new BinaryWriter().tag(2, WireType.LengthDelimited).fork().tag(3, WireType.LengthDelimited).fork();
    w.tag(5, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).bytes(new Uint8Array(7)).join().join().join();
    internal(() => vectorBatch(w.finish(), 0), /packed run of 7 bytes is not a whole number of 8-byte values/);
    const long = new BinaryWriter()
      .tag(2, WireType.LengthDelimited)
      .fork()
      .tag(4, WireType.LengthDelimited)
      .bytes(new Uint8Array([...new Array(10).fill(0x80), 1]))
      .join();
    internal(() => vectorBatch(long.finish(), 0), /ends inside a varint|longer than 10 bytes/);
    internal(() => vectorBatch(new BinaryWriter().tag(1, WireType.LengthDelimited).string("3").finish(), 3), /row_count has wire type 2, expected 0/);
    internal(() => vectorBatch(new Uint8Array([0x12, 0x05, 0x0a]), 0), /premature EOF|unreadable/);
  });

  it("never hangs and never answers wrong on truncated or corrupted bytes: an INTERNAL error, or values equal to protobuf-es's", () => {
    let seed = 17;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const cases: Uint8Array[] = [];
    for (let n = 0; n < good.length; n += 3) cases.push(good.subarray(0, n));
    for (let k = 0; k < 1500; k++) {
      const bad = good.slice();
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) bad[Math.floor(random() * bad.length)] = Math.floor(random() * 256);
      cases.push(bad);
    }
    let decoded = 0;
    for (const bytes of cases) {
      let rows: readonly Row[];
      try {
        rows = vectorBatch(bytes, 4).rows;
      } catch (err) {
        expect(err).toBeInstanceOf(ConnectError);
        expect((err as ConnectError).code).toBe(Code.Internal);
        continue;
      }
      decoded++;
      // Bytes the lean decoder accepts are bytes protobuf-es accepts, with the same values.
      const message = fromBinary(FeatureVectorsSchema, bytes);
      expect(comparable(rows)).toEqual(comparable(oracle(message).rows));
    }
    expect(decoded).toBeGreaterThan(0);
  });
});

describe("callWithRawField", () => {
  const vectors = create(FeatureVectorsSchema, everyKind);
  // What a client parses from the wire (floats rounded to float32): the oracle's input.
  const received = fromBinary(FeatureVectorsSchema, toBinary(FeatureVectorsSchema, vectors));
  const seen: string[] = [];
  const transport = createRouterTransport(
    ({ service }) => {
      service(OnlineService, {
        getFeatureVectors: (req) => {
          seen.push(req.project);
          return { vectors };
        },
        getModelFeatureVectors: () => ({ vectors, modelVersion: 7, featureView: { name: "v", version: 2 }, trainingDatasetVersion: 3 }),
      });
    },
    {
      transport: {
        interceptors: [
          (next) => async (req) => {
            seen.push(`${req.service.typeName}/${req.method.name}`);
            return next(req);
          },
        ],
      },
    },
  );

  it("calls the method through the transport (interceptors and all), with field 1 left as bytes", async () => {
    const res = await callWithRawField(transport, OnlineService.method.getFeatureVectors, { project: "p" }, {}, 1);
    expect(seen).toEqual(["granary.online.v1.OnlineService/GetFeatureVectors", "p"]);
    expect(res.raw).toEqual(toBinary(FeatureVectorsSchema, vectors));
    // A view of the received bytes, not a copy.
    expect(res.raw!.buffer.byteLength).toBeGreaterThan(res.raw!.byteLength);
    expect(res.message.vectors).toBeUndefined();
    expect(vectorBatch(res.raw, 4).rows).toEqual(oracle(received).rows);
  });

  it("parses the other fields of the response with the real output type", async () => {
    const res = await callWithRawField(transport, OnlineService.method.getModelFeatureVectors, { project: "p", model: "m" }, {}, 1);
    expect(res.message).toMatchObject({ modelVersion: 7, featureView: { name: "v", version: 2 }, trainingDatasetVersion: 3 });
    expect(res.message.vectors).toBeUndefined();
    const full = toBinary(GetModelFeatureVectorsResponseSchema, create(GetModelFeatureVectorsResponseSchema, { vectors }));
    expect(fromBinary(GetFeatureVectorsResponseSchema, full).vectors).toEqual(received);
    expect(res.raw).toEqual(toBinary(FeatureVectorsSchema, vectors));
  });

  it("keeps connect's errors", async () => {
    const failing = createRouterTransport(({ service }) => {
      service(OnlineService, {
        getFeatureVectors: () => {
          throw new ConnectError("no such view", Code.NotFound);
        },
      });
    });
    await expect(callWithRawField(failing, OnlineService.method.getFeatureVectors, {}, {}, 1)).rejects.toMatchObject({
      code: Code.NotFound,
      rawMessage: "no such view",
    });
  });
});
