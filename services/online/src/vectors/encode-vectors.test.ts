import { describe, expect, it } from "@jest/globals";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
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
    // Byte for byte what protobuf-es writes: sizes of nested messages computed up front must agree with it.
    expect(Buffer.from(encodeVectorsResponse(result))).toEqual(Buffer.from(toBinary(GetFeatureVectorsResponseSchema, expected)));
    expect(decoded.vectors?.columns[0]?.statuses).toEqual([ValueStatus.PRESENT, ValueStatus.PRESENT, ValueStatus.NULL, ValueStatus.EXPIRED]);
  });

  it("writes varints of every length as protobuf-es does (int64 halves, negative int32s, long columns)", () => {
    const int64s = [
      0n,
      127n,
      128n,
      2n ** 31n,
      2n ** 32n - 1n,
      2n ** 32n,
      2n ** 35n,
      2n ** 49n + 3n,
      2n ** 56n,
      2n ** 63n - 1n,
      -1n,
      -(2n ** 63n),
      -(2n ** 32n),
    ];
    const int32s = [0, 1, 127, 128, 16384, 2 ** 31 - 1, -1, -(2 ** 31)];
    const rows = 300;
    const i64 = new ColumnBuilder(type(ScalarType.INT64), rows);
    const i32 = new ColumnBuilder(type(ScalarType.INT32), rows);
    const f64 = new ColumnBuilder(type(ScalarType.DOUBLE), rows);
    for (let r = 0; r < rows; r++) {
      i64.set(r, int64s[r % int64s.length]!);
      i32.set(r, int32s[r % int32s.length]!);
      f64.set(r, r / 7);
    }
    const result: LookupResult = {
      rowCount: rows,
      columns: [
        { name: "long_name_".repeat(20), builder: i64 },
        { name: "i32", builder: i32 },
        { name: "f", builder: f64 },
      ],
      eventTimes: [{ name: "g", version: 300, micros: i64.i64! }],
    };
    const expected = create(GetFeatureVectorsResponseSchema, { vectors: toFeatureVectors(result) });
    expect(Buffer.from(encodeVectorsResponse(result))).toEqual(Buffer.from(toBinary(GetFeatureVectorsResponseSchema, expected)));
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
