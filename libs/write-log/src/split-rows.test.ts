import { describe, expect, it } from "@jest/globals";
import { create, toBinary } from "@bufbuild/protobuf";
import { ColumnarRowsSchema, type ColumnarRows } from "@granary/proto/types";
import { sliceRows, splitRows } from "./split-rows.js";

function batch(n: number, text = "x"): ColumnarRows {
  return create(ColumnarRowsSchema, {
    rowCount: n,
    columns: [
      { name: "id", data: { values: { case: "int64s", value: { values: Array.from({ length: n }, (_, i) => BigInt(i)) } } } },
      {
        name: "note",
        data: {
          values: { case: "strings", value: { values: Array.from({ length: n }, (_, i) => (i % 7 === 0 ? "" : `${text}${i}`)) } },
          nullIndexes: [0, 7, 14].filter((i) => i < n),
        },
      },
      {
        name: "tags",
        data: {
          values: {
            case: "lists",
            value: {
              offsets: Array.from({ length: n + 1 }, (_, i) => i * 2),
              items: { values: { case: "doubles", value: { values: Array.from({ length: 2 * n }, (_, i) => i / 2) } } },
            },
          },
        },
      },
    ],
  });
}

const ids = (r: ColumnarRows) => (r.columns[0]!.data!.values.value as { values: bigint[] }).values;

describe("splitRows", () => {
  it("returns a batch that fits as it is", () => {
    const b = batch(10);
    expect(splitRows(b, 1 << 20)).toEqual([b]);
  });

  it("cuts a large batch into parts that each fit and together hold every row once, in order, nulls and lists intact", () => {
    const b = batch(20_000, "a rather long note to make the rows heavy ");
    const max = 64 * 1024;
    const parts = splitRows(b, max);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(toBinary(ColumnarRowsSchema, p).byteLength).toBeLessThanOrEqual(max);
    expect(parts.flatMap(ids)).toEqual(ids(b));
    expect(parts.reduce((n, p) => n + p.rowCount, 0)).toBe(20_000);
    // The third part's lists are rebased to start at 0 and hold that part's items.
    const p = parts[2]!;
    const first = Number(ids(p)[0]);
    const lists = p.columns[2]!.data!.values.value as { offsets: number[]; items: { values: { value: { values: number[] } } } };
    expect(lists.offsets[0]).toBe(0);
    expect(lists.offsets).toHaveLength(p.rowCount + 1);
    expect(lists.items.values.value.values.slice(0, 2)).toEqual([first, first + 0.5]);
  });

  it("moves null indexes with their rows", () => {
    const s = sliceRows(batch(20), 5, 15);
    expect(s.columns[1]!.data!.nullIndexes).toEqual([2, 9]);
  });
});
