import { describe, expect, it } from "@jest/globals";
import { create, equals, fromBinary } from "@bufbuild/protobuf";
import { GetFeatureVectorsResponseSchema } from "@granary/proto/online";
import { DataTypeSchema, ScalarType, ValueStatus } from "@granary/proto/types";
import { ColumnBuilder } from "./column-builder.js";
import { encodeVectorsResponse, toFeatureVectors, type LookupResult } from "./encode-vectors.js";

const type = (scalar: ScalarType, list = false) => create(DataTypeSchema, { scalar, list });

describe("encodeVectorsResponse", () => {
  it("writes exactly the message protobuf-es would, for every column type", () => {
    const n = 4;
    const samples: [ScalarType, boolean, unknown[]][] = [
      [ScalarType.DOUBLE, false, [1.5, -0.25, 1e300, 0]],
      [ScalarType.FLOAT, false, [0.5, 2, -3, 0]],
      [ScalarType.INT32, false, [1, -1, 2147483647, 0]],
      [ScalarType.DATE, false, [19000, -5, 0, 1]],
      [ScalarType.INT64, false, [1n, -1n, 9007199254740993n, 0n]],
      [ScalarType.TIMESTAMP, false, [1_700_000_000_000_000n, 0n, -1n, 5n]],
      [ScalarType.BOOL, false, [true, false, true, false]],
      [ScalarType.STRING, false, ["a", "", "zürich", "x"]],
      [ScalarType.BYTES, false, [new Uint8Array([1]), new Uint8Array(), new Uint8Array([0, 255]), new Uint8Array([7])]],
      [ScalarType.FLOAT, true, [[0.5, 1], [], [2], [3, 4, 5]]],
    ];
    const columns = samples.map(([scalar, list, values], i) => {
      const builder = new ColumnBuilder(type(scalar, list), n);
      values.forEach((v, r) => builder.set(r, r === 2 && i % 3 === 0 ? null : (v as never)));
      builder.mark(3, ValueStatus.EXPIRED);
      return { name: `c${i}`, builder };
    });
    const result: LookupResult = {
      rowCount: n,
      columns,
      eventTimes: [{ name: "g", version: 2, micros: new BigInt64Array([1n, 0n, -7n, 1_700_000_000_000_000n]) }],
    };
    const decoded = fromBinary(GetFeatureVectorsResponseSchema, encodeVectorsResponse(result));
    const expected = create(GetFeatureVectorsResponseSchema, { vectors: toFeatureVectors(result) });
    expect(equals(GetFeatureVectorsResponseSchema, decoded, expected)).toBe(true);
    expect(decoded.vectors?.columns[0]?.statuses).toEqual([ValueStatus.PRESENT, ValueStatus.PRESENT, ValueStatus.NULL, ValueStatus.EXPIRED]);
  });

  it("encodes an empty batch", () => {
    const decoded = fromBinary(
      GetFeatureVectorsResponseSchema,
      encodeVectorsResponse({ rowCount: 0, columns: [{ name: "x", builder: new ColumnBuilder(type(ScalarType.DOUBLE), 0) }], eventTimes: [] }),
    );
    expect(decoded.vectors?.columns[0]?.name).toBe("x");
    expect(decoded.vectors?.rowCount).toBe(0);
  });
});
