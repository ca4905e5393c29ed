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

  it("writes int64 keys the same by the arithmetic path (safe integers) as by BigInt (the rest)", () => {
    const enc = new KeyEncoder();
    const reference = (v: bigint) => {
      const b = Buffer.alloc(17);
      b[0] = 1;
      b.writeBigUInt64BE(9n, 1);
      b.writeBigUInt64BE(BigInt.asUintN(64, v) ^ 0x8000000000000000n, 9);
      return b;
    };
    const edges = [0n, 1n, -1n, 2n ** 31n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n), -(2n ** 32n) - 1n, 2n ** 53n - 1n, -(2n ** 53n) + 1n];
    const beyond = [2n ** 53n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 53n) - 7n];
    for (const v of [...edges, ...beyond]) {
      expect(enc.begin(9n).add(t(ScalarType.INT64), v).finish()).toEqual(reference(v));
      // A number key (a JSON client's) encodes as the same bigint does.
      if (edges.includes(v)) expect(enc.begin(9n).add(t(ScalarType.INT64), Number(v)).finish()).toEqual(reference(v));
    }
    // The cached prefix starts the same key as the group id does.
    const prefix = Buffer.from(enc.begin(9n).finish());
    expect(enc.beginWith(prefix).add(t(ScalarType.INT64), 42n).view()).toEqual(reference(42n));
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

  it("encodes a row larger than its first buffer, fixed-width cells after a long string included", () => {
    const types = [t(ScalarType.STRING), t(ScalarType.DOUBLE), t(ScalarType.INT64)];
    const long = "x".repeat(4000);
    const raw = new RowEncoder(types).encode(7n, [long, 2.5, 9n]);
    const got: CellValue[] = [];
    decodeRowInto(
      raw,
      types,
      types.map((type, i) => ({ value: (_r, buf, offset) => (got[i] = decodeCell(type, buf, offset)), missing: () => (got[i] = null) })),
      0,
    );
    expect(got).toEqual([long, 2.5, 9n]);
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
