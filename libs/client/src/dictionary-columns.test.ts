import { describe, expect, it } from "@jest/globals";
import * as arrow from "apache-arrow";
import { plainSchema, withoutDictionaries } from "./dictionary-columns.js";

const dictionaryOf = <T extends arrow.DataType>(values: readonly unknown[], type: T, indices: arrow.Int8 | arrow.Int16 | arrow.Int32 = new arrow.Int32()) =>
  arrow.vectorFromArray(values, new arrow.Dictionary(type, indices));

describe("withoutDictionaries", () => {
  it("decodes a dictionary-encoded string column, nulls included, and leaves other columns as they are", () => {
    const table = new arrow.Table({
      category: dictionaryOf(["food", "travel", "food", null, "éè"], new arrow.Utf8()),
      amount: arrow.vectorFromArray([1.5, 2, 3, 4, 5], new arrow.Float64()),
    });
    const batch = withoutDictionaries(table.batches[0]!);
    expect(String(batch.schema.fields[0]!.type)).toBe("Utf8");
    expect(batch.schema.fields[0]!.name).toBe("category");
    expect([...batch.getChild("category")!]).toEqual(["food", "travel", "food", null, "éè"]);
    expect([...batch.getChild("amount")!]).toEqual([1.5, 2, 3, 4, 5]);
    expect(batch.getChild("amount")!.data[0]).toBe(table.batches[0]!.getChild("amount")!.data[0]);
  });

  it("decodes a slice of a batch (as inserts cut tables) from the slice's first row", () => {
    const table = new arrow.Table({ c: dictionaryOf(["a", null, "bb", "ccc", null, "a", "bb", "dddd", "e", "f"], new arrow.Utf8(), new arrow.Int8()) });
    const slice = table.batches[0]!.slice(3, 9);
    const decoded = withoutDictionaries(slice);
    expect(decoded.numRows).toBe(6);
    expect([...decoded.getChild("c")!]).toEqual(["ccc", null, "a", "bb", "dddd", "e"]);
    expect(decoded.getChild("c")!.nullCount).toBe(1);
  });

  it("decodes binary and numeric dictionaries, with 64-bit indices", () => {
    // Arrow's builders write no 64-bit indices (pyarrow does): the column is assembled by hand.
    const dictionary = arrow.vectorFromArray([new Uint8Array([1, 2]), new Uint8Array([])], new arrow.Binary());
    const type = new arrow.Dictionary(new arrow.Binary(), new arrow.Int64() as unknown as arrow.Int32);
    const b = arrow.makeVector(arrow.makeData({ type, length: 3, data: new BigInt64Array([0n, 1n, 0n]) as unknown as Int32Array, dictionary }));
    const table = new arrow.Table({
      b,
      n: dictionaryOf([10, 20, 10], new arrow.Int32(), new arrow.Int8()),
    });
    const batch = withoutDictionaries(table.batches[0]!);
    expect(String(batch.schema.fields[0]!.type)).toBe("Binary");
    expect([...batch.getChild("b")!].map((v) => [...(v as Uint8Array)])).toEqual([[1, 2], [], [1, 2]]);
    expect(String(batch.schema.fields[1]!.type)).toBe("Int32");
    expect([...batch.getChild("n")!]).toEqual([10, 20, 10]);
  });

  it("survives an Arrow IPC round trip as plain columns (what the services receive)", () => {
    const table = new arrow.Table({ c: dictionaryOf(["x", "y", "x"], new arrow.Utf8()) });
    const back = arrow.tableFromIPC(arrow.tableToIPC(new arrow.Table([withoutDictionaries(table.batches[0]!)])));
    expect(String(back.schema.fields[0]!.type)).toBe("Utf8");
    expect(back.getChild("c")!.toArray()).toEqual(["x", "y", "x"]);
  });

  it("returns a batch without dictionaries unchanged", () => {
    const batch = new arrow.Table({ a: arrow.vectorFromArray(["p"], new arrow.Utf8()) }).batches[0]!;
    expect(withoutDictionaries(batch)).toBe(batch);
    expect(plainSchema(batch.schema)).toBe(batch.schema);
  });
});
