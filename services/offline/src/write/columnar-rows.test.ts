import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import * as arrow from "apache-arrow";
import { ColumnSchema, ColumnarRowsSchema, ScalarType, type ColumnarRows } from "@granary/proto/types";
import { arrowOfColumnarRows, columnarRowsOf } from "./columnar-rows.js";

const column = (name: string, scalar: ScalarType, list = false) => create(ColumnSchema, { name, type: { scalar, list } });

describe("ColumnarRows ↔ Arrow", () => {
  it("carries every scalar kind, lists and nulls there and back, each column in the type its values travel as", () => {
    const columns = [
      column("id", ScalarType.INT64),
      column("n", ScalarType.INT32),
      column("x", ScalarType.DOUBLE),
      column("ok", ScalarType.BOOL),
      column("name", ScalarType.STRING),
      column("raw", ScalarType.BYTES),
      column("at", ScalarType.TIMESTAMP),
      column("day", ScalarType.DATE),
      column("tags", ScalarType.STRING, true),
    ];
    const rows = create(ColumnarRowsSchema, {
      rowCount: 2,
      columns: [
        { name: "id", data: { values: { case: "int64s", value: { values: [1n, 2n] } } } },
        { name: "n", data: { values: { case: "int32s", value: { values: [3, 0] } }, nullIndexes: [1] } },
        { name: "x", data: { values: { case: "doubles", value: { values: [0.5, -1] } } } },
        { name: "ok", data: { values: { case: "bools", value: { values: [true, false] } } } },
        { name: "name", data: { values: { case: "strings", value: { values: ["a", ""] } }, nullIndexes: [1] } },
        { name: "raw", data: { values: { case: "bytes", value: { values: [new Uint8Array([1, 2]), new Uint8Array()] } } } },
        { name: "at", data: { values: { case: "timestamps", value: { values: [1_700_000_000_000_001n, 0n] } } } },
        { name: "day", data: { values: { case: "dates", value: { values: [19_000, 1] } } } },
        {
          name: "tags",
          data: { values: { case: "lists", value: { offsets: [0, 2, 2], items: { values: { case: "strings", value: { values: ["p", "q"] } } } } } },
        },
      ],
    } as never) as ColumnarRows;
    const table = arrow.tableFromIPC(arrowOfColumnarRows(rows, columns));
    expect(table.schema.fields.map((f) => String(f.type))).toEqual([
      "Int64",
      "Int32",
      "Float64",
      "Bool",
      "Utf8",
      "Binary",
      "Timestamp<MICROSECOND, UTC>",
      "Date32<DAY>",
      "List<Utf8>",
    ]);
    expect(table.getChild("n")!.get(1)).toBeNull();
    expect(table.getChild("name")!.get(1)).toBeNull();
    const back = columnarRowsOf(table.batches[0]!, columns);
    expect(back.columns.map((c) => c.data?.values.case)).toEqual(rows.columns.map((c) => c.data?.values.case));
    expect(back.columns[0]!.data!.values.value).toEqual(rows.columns[0]!.data!.values.value);
    expect(back.columns[6]!.data!.values.value).toEqual(rows.columns[6]!.data!.values.value);
    expect((back.columns[8]!.data!.values.value as { offsets: number[] }).offsets).toEqual([0, 2, 2]);
  });

  it("gives a column without values (all null) the group's type", () => {
    const rows = create(ColumnarRowsSchema, { rowCount: 1, columns: [{ name: "x", data: { nullIndexes: [0] } }] });
    const table = arrow.tableFromIPC(arrowOfColumnarRows(rows, [column("x", ScalarType.DOUBLE)]));
    expect(String(table.schema.fields[0]!.type)).toBe("Float64");
    expect(table.getChild("x")!.get(0)).toBeNull();
  });
});
