import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { DataTypeSchema, ScalarType } from "@granary/proto/types";
import { columnDataOf, columnDataReader } from "./column-values.js";

const t = (scalar: ScalarType, list = false) => create(DataTypeSchema, { scalar, list });

describe("columnDataOf", () => {
  // Serving keys of every type go to the online service in this form; string keys once failed with
  // INTERNAL because every type's conversion was built for every value (BigInt("card-1")).
  it.each([
    [ScalarType.STRING, ["card-1", null, "card-3"]],
    [ScalarType.INT64, [1n, null, 3n]],
    [ScalarType.INT32, [1, null, 3]],
    [ScalarType.BOOL, [true, null, false]],
    [ScalarType.TIMESTAMP, [1_700_000_000_000_000n, null, 0n]],
  ])("round-trips %s values with nulls", (scalar, values) => {
    const data = columnDataOf(t(scalar), values);
    const read = columnDataReader(data, t(scalar));
    expect([0, 1, 2].map((row) => read(row))).toEqual(values);
  });

  it("builds lists of strings", () => {
    const data = columnDataOf(t(ScalarType.STRING, true), [["a", "b"], null, []]);
    expect(data.values.case).toBe("lists");
    expect(data.nullIndexes).toEqual([1]);
  });
});
