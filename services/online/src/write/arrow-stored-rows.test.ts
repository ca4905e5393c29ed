import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import * as arrow from "apache-arrow";
import { eventTimeBounds } from "@granary/arrow";
import { FeatureGroupSchema } from "@granary/proto/metadata";
import { ScalarType } from "@granary/proto/types";
import { seededRandom } from "@granary/testing";
import { arrowToColumnarRows, readArrowRows } from "../vectors/arrow-rows.js";
import { arrowColumnPaths, storedRowsOfArrow } from "./arrow-stored-rows.js";
import { storedRowsOf } from "./stored-rows.js";

const NOW = 1_700_000_000_000_000n;
const bounds = eventTimeBounds(NOW, 86_400);
const t = (scalar: ScalarType) => ({ scalar });

const group = create(FeatureGroupSchema, {
  id: 42n,
  name: "wide",
  version: 3,
  columns: [
    { name: "id", type: t(ScalarType.INT64) },
    { name: "et", type: t(ScalarType.TIMESTAMP) },
    { name: "d", type: t(ScalarType.DOUBLE) },
    { name: "d32", type: t(ScalarType.DOUBLE) },
    { name: "f", type: t(ScalarType.FLOAT) },
    { name: "i64s", type: t(ScalarType.INT64) },
    { name: "i64u", type: t(ScalarType.INT64) },
    { name: "i32", type: t(ScalarType.INT32) },
    { name: "b", type: t(ScalarType.BOOL) },
    { name: "s", type: t(ScalarType.STRING) },
    { name: "raw", type: t(ScalarType.BYTES) },
    { name: "day", type: t(ScalarType.DATE) },
    { name: "ts", type: t(ScalarType.TIMESTAMP) },
    { name: "half", type: t(ScalarType.DOUBLE) },
    { name: "gone", type: t(ScalarType.DOUBLE), defaultValue: { kind: { case: "doubleValue", value: 2.5 } } },
    { name: "gone_str", type: t(ScalarType.STRING), defaultValue: { kind: { case: "stringValue", value: "dflt" } } },
    { name: "gone_null", type: t(ScalarType.INT64) },
    { name: "gone_list", type: { scalar: ScalarType.DOUBLE, list: true } },
  ],
  primaryKey: ["id"],
  eventTime: "et",
});

const enc = new TextEncoder();
const BOM = [0xef, 0xbb, 0xbf];

/** One record batch of every column kind, with nulls where `nulls` is set (never in id and et). */
function batchOf(start: number, n: number, random: () => number, nulls: boolean, unit = arrow.TimeUnit.MICROSECOND): arrow.RecordBatch {
  const bitmap = () => {
    const bits = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
    let count = 0;
    if (nulls) {
      for (let i = 0; i < n; i++) {
        if (random() < 0.2) {
          bits[i >> 3]! &= ~(1 << (i & 7));
          count++;
        }
      }
    }
    return { nullBitmap: bits, nullCount: count };
  };
  const strings = (kind: "utf8" | "binary") => {
    const parts = Array.from({ length: n }, (_, i) => {
      const r = random();
      if (kind === "utf8" && r < 0.1) return new Uint8Array([...BOM, 0x61]);
      if (r < 0.2) return new Uint8Array(0);
      return kind === "utf8"
        ? enc.encode(`s${start + i}-é-${"x".repeat(Math.floor(random() * 20))}`)
        : Uint8Array.from({ length: Math.floor(random() * 9) }, () => Math.floor(random() * 256));
    });
    const valueOffsets = new Int32Array(n + 1);
    parts.forEach((p, i) => (valueOffsets[i + 1] = valueOffsets[i]! + p.length));
    const data = new Uint8Array(valueOffsets[n]!);
    parts.forEach((p, i) => data.set(p, valueOffsets[i]!));
    return { valueOffsets, data };
  };
  const times = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(random() * 1e15)) * (unit === arrow.TimeUnit.MICROSECOND ? 1n : 1000n));
  const children = {
    id: arrow.makeData({ type: new arrow.Int64(), length: n, nullCount: 0, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(start + i) - 50n) }),
    et: arrow.makeData({
      type: new arrow.TimestampMicrosecond(),
      length: n,
      nullCount: 0,
      data: BigInt64Array.from({ length: n }, (_, i) => NOW - BigInt(i) * 1_000_003n),
    }),
    d: arrow.makeData({ type: new arrow.Float64(), length: n, ...bitmap(), data: Float64Array.from({ length: n }, () => (random() - 0.5) * 1e6) }),
    d32: arrow.makeData({ type: new arrow.Float32(), length: n, ...bitmap(), data: Float32Array.from({ length: n }, () => random() * 100) }),
    f: arrow.makeData({ type: new arrow.Float32(), length: n, ...bitmap(), data: Float32Array.from({ length: n }, () => -random()) }),
    i64s: arrow.makeData({ type: new arrow.Int16(), length: n, ...bitmap(), data: Int16Array.from({ length: n }, () => Math.floor((random() - 0.5) * 60000)) }),
    i64u: arrow.makeData({ type: new arrow.Uint32(), length: n, ...bitmap(), data: Uint32Array.from({ length: n }, () => Math.floor(random() * 4294967295)) }),
    i32: arrow.makeData({ type: new arrow.Int32(), length: n, ...bitmap(), data: Int32Array.from({ length: n }, () => Math.floor((random() - 0.5) * 4e9)) }),
    b: arrow.makeData({
      type: new arrow.Bool(),
      length: n,
      ...bitmap(),
      data: Uint8Array.from({ length: Math.ceil(n / 8) }, () => Math.floor(random() * 256)),
    }),
    s: arrow.makeData({ type: new arrow.Utf8(), length: n, ...bitmap(), ...strings("utf8") }),
    raw: arrow.makeData({ type: new arrow.Binary(), length: n, ...bitmap(), ...strings("binary") }),
    day: arrow.makeData({
      type: new arrow.DateDay(),
      length: n,
      ...bitmap(),
      data: Int32Array.from({ length: n }, () => Math.floor((random() - 0.3) * 40000)),
    }),
    ts: arrow.makeData({ type: new arrow.Timestamp(unit), length: n, ...bitmap(), data: times }),
    half: arrow.makeData({ type: new arrow.Float16(), length: n, ...bitmap(), data: Uint16Array.from({ length: n }, () => Math.floor(random() * 0x7bff)) }),
  };
  return new arrow.RecordBatch(children as Record<string, arrow.Data>);
}

function ipcOf(...batches: arrow.RecordBatch[]): Uint8Array {
  return arrow.tableToIPC(new arrow.Table(batches), "stream");
}

/** What the general path (Arrow → ColumnarRows → storedRowsOf) makes of the same bytes. */
function reference(bytes: Uint8Array, g = group) {
  return storedRowsOf(g, arrowToColumnarRows(bytes, g), NOW, bounds);
}

function fast(bytes: Uint8Array, g = group) {
  return storedRowsOfArrow(g, readArrowRows(bytes, g), NOW, bounds);
}

const hex = (rows: ReturnType<typeof fast>) => rows.map((r) => ({ key: r.key.toString("hex"), value: r.value.toString("hex"), eventMicros: r.eventMicros }));

describe("storedRowsOfArrow", () => {
  it("stores every column kind byte for byte as the general path does, across batches, with nulls and defaults", () => {
    const random = seededRandom(18);
    for (const nulls of [false, true]) {
      for (const unit of [arrow.TimeUnit.MICROSECOND, arrow.TimeUnit.NANOSECOND]) {
        const bytes = ipcOf(batchOf(0, 700, random, nulls, unit), batchOf(700, 1, random, nulls, unit), batchOf(701, 299, random, nulls, unit));
        const expected = hex(reference(bytes));
        expect(expected).toHaveLength(1000);
        expect(hex(fast(bytes))).toEqual(expected);
      }
    }
  });

  it("writes the common Arrow types straight from their buffers once read back from IPC", () => {
    const random = seededRandom(5);
    const bytes = ipcOf(batchOf(0, 64, random, true));
    const paths = arrowColumnPaths(group, readArrowRows(bytes, group));
    // float16 has no fast path; the strings of this batch include ones starting with a byte-order mark.
    expect(paths).toEqual({
      id: "direct",
      et: "direct",
      d: "direct",
      d32: "direct",
      f: "direct",
      i64s: "direct",
      i64u: "direct",
      i32: "direct",
      b: "direct",
      s: "cells",
      raw: "direct",
      day: "direct",
      ts: "direct",
      half: "cells",
    });
  });

  it("takes a subset of the columns (the rest get their default, or null)", () => {
    const random = seededRandom(7);
    const full = batchOf(0, 100, random, true);
    const some = new arrow.RecordBatch({ id: full.getChild("id")!.data[0]!, et: full.getChild("et")!.data[0]!, s: full.getChild("s")!.data[0]! });
    const bytes = ipcOf(some);
    expect(hex(fast(bytes))).toEqual(hex(reference(bytes)));
  });

  it("stores strings that are not plain UTF-8 as the general path does", () => {
    const g = create(FeatureGroupSchema, {
      id: 1n,
      name: "s",
      version: 1,
      columns: [
        { name: "k", type: t(ScalarType.STRING) },
        { name: "v", type: t(ScalarType.STRING) },
      ],
      primaryKey: ["k"],
    });
    const parts = [new Uint8Array([0x61, 0xff, 0x62]), new Uint8Array([...BOM, 0x63]), enc.encode("plain")];
    const valueOffsets = new Int32Array([0, 3, 7, 12]);
    const data = new Uint8Array(12);
    parts.forEach((p, i) => data.set(p, valueOffsets[i]!));
    const v = arrow.makeData({ type: new arrow.Utf8(), length: 3, nullCount: 0, valueOffsets, data });
    const k = arrow.vectorFromArray(["a", "b", "c"], new arrow.Utf8()).data[0]!;
    const bytes = ipcOf(new arrow.RecordBatch({ k, v }));
    expect(hex(fast(bytes, g))).toEqual(hex(reference(bytes, g)));
    expect(arrowColumnPaths(g, readArrowRows(bytes, g))).toEqual({ k: "direct", v: "cells" });
  });

  it("encodes fixed-width composite keys (negative values too) as the key encoder does", () => {
    const g = create(FeatureGroupSchema, {
      id: 9n,
      name: "composite",
      version: 2,
      columns: [
        { name: "a", type: t(ScalarType.INT32) },
        { name: "b", type: t(ScalarType.DATE) },
        { name: "c", type: t(ScalarType.TIMESTAMP) },
        { name: "d", type: t(ScalarType.INT64) },
        { name: "et", type: t(ScalarType.TIMESTAMP) },
      ],
      primaryKey: ["a", "b", "c", "d"],
      eventTime: "et",
    });
    const random = seededRandom(11);
    const n = 300;
    const signed = (scale: number) => Math.floor((random() - 0.5) * scale);
    const batch = new arrow.RecordBatch({
      a: arrow.makeData({ type: new arrow.Int32(), length: n, nullCount: 0, data: Int32Array.from({ length: n }, () => signed(4e9)) }),
      b: arrow.makeData({ type: new arrow.DateDay(), length: n, nullCount: 0, data: Int32Array.from({ length: n }, () => signed(80000)) }),
      c: arrow.makeData({
        type: new arrow.TimestampMicrosecond(),
        length: n,
        nullCount: 0,
        data: BigInt64Array.from({ length: n }, () => BigInt(signed(1e15)) * 7n),
      }),
      d: arrow.makeData({ type: new arrow.Int64(), length: n, nullCount: 0, data: BigInt64Array.from({ length: n }, () => BigInt(signed(1e15)) * 9000n) }),
      et: arrow.makeData({
        type: new arrow.TimestampNanosecond(),
        length: n,
        nullCount: 0,
        data: BigInt64Array.from({ length: n }, () => BigInt(signed(1e15)) * 1000n),
      }),
    });
    const bytes = ipcOf(batch);
    expect(hex(fast(bytes, g))).toEqual(hex(reference(bytes, g)));
  });

  it("refuses the first bad row with the general path's message", () => {
    const random = seededRandom(3);
    const good = batchOf(0, 50, random, false);
    const withColumn = (name: string, data: arrow.Data) => {
      const children: Record<string, arrow.Data> = {};
      for (const f of good.schema.fields) children[f.name] = f.name === name ? data : good.getChild(f.name)!.data[0]!;
      return ipcOf(new arrow.RecordBatch(children));
    };
    const nullAt = (rows: number[]) => {
      const bits = new Uint8Array(7).fill(0xff);
      for (const r of rows) bits[r >> 3]! &= ~(1 << (r & 7));
      return { nullBitmap: bits, nullCount: rows.length };
    };
    const cases = [
      withColumn("id", arrow.makeData({ type: new arrow.Int64(), length: 50, ...nullAt([9, 4]), data: new BigInt64Array(50) })),
      withColumn("et", arrow.makeData({ type: new arrow.TimestampMicrosecond(), length: 50, ...nullAt([12]), data: new BigInt64Array(50).fill(NOW) })),
      withColumn(
        "et",
        arrow.makeData({
          type: new arrow.TimestampMicrosecond(),
          length: 50,
          nullCount: 0,
          data: BigInt64Array.from({ length: 50 }, (_, i) => (i === 30 ? NOW + 10n ** 12n : NOW)),
        }),
      ),
    ];
    for (const bytes of cases) {
      const expected = (() => {
        try {
          reference(bytes);
        } catch (err) {
          return err;
        }
        throw new Error("the general path accepted the rows");
      })() as Error;
      expect(() => fast(bytes)).toThrow(expected.message);
    }
  });
});
