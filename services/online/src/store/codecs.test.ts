import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { DataTypeSchema, ScalarType, type DataType } from "@granary/proto/types";
import { KeyEncoder } from "./key-codec.js";
import { RowEncoder, decodeCell, decodeRowInto, type CellValue } from "./row-codec.js";

const t = (scalar: ScalarType, list = false): DataType => create(DataTypeSchema, { scalar, list });

describe("key codec", () => {
  it("sorts keys as their values sort, per type", () => {
    const enc = new KeyEncoder();
    const sorted = (type: DataType, values: (number | bigint | string)[]) => {
      const keys = values.map((v) => enc.begin(5n).add(type, v).finish());
      const order = [...keys].sort(Buffer.compare).map((k) => keys.indexOf(k));
      return order;
    };
    expect(sorted(t(ScalarType.INT64), [5n, -3n, 0n, 2n ** 40n, -(2n ** 40n)])).toEqual([4, 1, 2, 0, 3]);
    expect(sorted(t(ScalarType.INT32), [7, -7, 0])).toEqual([1, 2, 0]);
    expect(sorted(t(ScalarType.STRING), ["b", "a\u0000z", "a", "ab"])).toEqual([2, 1, 3, 0]);
  });

  it("keeps composite keys unambiguous", () => {
    const enc = new KeyEncoder();
    const s = t(ScalarType.STRING);
    const a = enc.begin(1n).add(s, "ab").add(s, "c").finish();
    const b = enc.begin(1n).add(s, "a").add(s, "bc").finish();
    expect(a.equals(b)).toBe(false);
  });
});

describe("row codec", () => {
  const types = [
    t(ScalarType.INT64),
    t(ScalarType.DOUBLE),
    t(ScalarType.STRING),
    t(ScalarType.FLOAT, true),
    t(ScalarType.BOOL),
    t(ScalarType.BYTES),
    t(ScalarType.DATE),
    t(ScalarType.STRING, true),
  ];
  const values: CellValue[] = [42n, 3.25, "zürich", [0.5, 1.5], true, new Uint8Array([0, 255]), 19000, ["a", "", "c"]];

  it("round-trips every type, and reads columns the row predates as missing", () => {
    const raw = new RowEncoder(types).encode(1_700_000_000_000_000n, values);
    const got: CellValue[] = [];
    const missing: number[] = [];
    const sinks = [...types, t(ScalarType.INT32)].map((type, i) => ({
      value: (_row: number, buf: Buffer, offset: number) => void (got[i] = decodeCell(type, buf, offset)),
      missing: () => void missing.push(i),
    }));
    const event = decodeRowInto(raw, [...types, t(ScalarType.INT32)], sinks, 0);
    expect(event).toBe(1_700_000_000_000_000n);
    expect(got).toEqual(values);
    expect(missing).toEqual([8]);
  });

  it("marks nulls", () => {
    const raw = new RowEncoder(types).encode(1n, [1n, null, null, null, null, null, null, null]);
    const nulls: number[] = [];
    decodeRowInto(
      raw,
      types,
      types.map((_, i) => ({ value: () => {}, missing: () => void nulls.push(i) })),
      0,
    );
    expect(nulls).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
