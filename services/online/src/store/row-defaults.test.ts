import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { DataTypeSchema, ScalarType, ValueStatus, ValueSchema, type DataType } from "@granary/proto/types";
import { ColumnBuilder } from "../vectors/column-builder.js";
import { RowEncoder, cellOf, decodeRowInto, encodeRowDefaults, type CellValue } from "./row-codec.js";

const t = (scalar: ScalarType, list = false): DataType => create(DataTypeSchema, { scalar, list });

// A group of two columns, then AppendFeatures added one column of every type with a default, and
// one without.
const original = [t(ScalarType.INT64), t(ScalarType.DOUBLE)];
const appended: [DataType, CellValue][] = [
  [t(ScalarType.DOUBLE), 0.5],
  [t(ScalarType.FLOAT), 1.5],
  [t(ScalarType.INT32), -7],
  [t(ScalarType.DATE), 19_000],
  [t(ScalarType.INT64), 9_007_199_254_740_993n],
  [t(ScalarType.TIMESTAMP), 1_700_000_000_000_000n],
  [t(ScalarType.BOOL), true],
  [t(ScalarType.STRING), "basic"],
  [t(ScalarType.BYTES), new Uint8Array([0, 255])],
  [t(ScalarType.FLOAT, true), [0.25, 2]],
  [t(ScalarType.STRING, true), ["a", ""]],
  [t(ScalarType.STRING), null],
];
const types = [...original, ...appended.map(([type]) => type)];
const defaults = encodeRowDefaults(types, [null, null, ...appended.map(([, d]) => d)]);

function read(raw: Buffer): { values: CellValue[]; statuses: string[] } {
  const builders = types.map((type) => new ColumnBuilder(type, 1));
  decodeRowInto(raw, types, builders, 0, defaults);
  return { values: builders.map((b) => b.get(0)), statuses: builders.map((b) => ValueStatus[b.statuses[0]!]!) };
}

describe("defaults of appended columns", () => {
  it("fill, typed, the columns a row predates; a column without a default stays null", () => {
    const old = new RowEncoder(original).encode(1n, [7n, 3.25]);
    const { values, statuses } = read(old);
    expect(values).toEqual([7n, 3.25, ...appended.map(([, d]) => d)]);
    expect(statuses).toEqual([...Array(types.length - 1).fill("PRESENT"), "NULL"]);
  });

  it("never replace a null or a value stored after the append", () => {
    const written: CellValue[] = [7n, null, null, 2.5, null, null, 5n, null, false, null, null, null, ["z"], "x"];
    const { values, statuses } = read(new RowEncoder(types).encode(1n, written));
    expect(values).toEqual(written);
    expect(statuses).toEqual(written.map((v) => (v === null ? "NULL" : "PRESENT")));
  });

  it("apply to the part of a row the row predates only", () => {
    // written when the group had its first four columns
    const partial = new RowEncoder(types.slice(0, 4)).encode(1n, [7n, 1, null, 9.5]);
    const { values } = read(partial);
    expect(values.slice(0, 4)).toEqual([7n, 1, null, 9.5]);
    expect(values.slice(4)).toEqual(appended.slice(2).map(([, d]) => d));
  });

  it("cost nothing when no column has one", () => {
    expect(encodeRowDefaults(original, [null, null])).toBeUndefined();
  });

  it("come from the column's proto Value", () => {
    expect(cellOf(create(ValueSchema, { kind: { case: "timestampValue", value: { seconds: 2n, nanos: 5000 } } }))).toBe(2_000_005n);
    expect(cellOf(create(ValueSchema, { kind: { case: "listValue", value: { values: [{ kind: { case: "floatValue", value: 1 } }] } } }))).toEqual([1]);
    expect(cellOf(create(ValueSchema, {}))).toBeNull();
  });
});
