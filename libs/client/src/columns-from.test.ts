import { describe, expect, it } from "@jest/globals";
import * as arrow from "apache-arrow";
import { arrowFits } from "@granary/arrow";
import { columnsFrom } from "./columns-from.js";
import { parseType } from "./column-types.js";

const field = (name: string, type: arrow.DataType) => new arrow.Field(name, type, true);

describe("columnsFrom", () => {
  const schema = new arrow.Schema([
    field("tid", new arrow.Int64()),
    field("small", new arrow.Int16()),
    field("u32", new arrow.Uint32()),
    field("amount", new arrow.Float64()),
    field("ratio", new arrow.Float32()),
    field("category", new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    field("name", new arrow.LargeUtf8()),
    field("blob", new arrow.Binary()),
    field("flag", new arrow.Bool()),
    field("ts", new arrow.TimestampMillisecond()),
    field("day", new arrow.DateDay()),
    field("tags", new arrow.List(field("item", new arrow.Utf8()))),
    field("vec", new arrow.FixedSizeList(3, field("item", new arrow.Float32()))),
    field("pair", new arrow.FixedSizeList(2, field("item", new arrow.Float64()))),
  ]);

  it("maps each Arrow type to the Granary type the services store it as, in the table's order", () => {
    const columns = columnsFrom(schema, { primaryKey: ["tid"], eventTime: "ts" });
    expect(columns).toEqual([
      { name: "tid", type: "int64" },
      { name: "small", type: "int32" },
      { name: "u32", type: "int64" },
      { name: "amount", type: "double" },
      { name: "ratio", type: "float" },
      { name: "category", type: "string" },
      { name: "name", type: "string" },
      { name: "blob", type: "bytes" },
      { name: "flag", type: "bool" },
      { name: "ts", type: "timestamp" },
      { name: "day", type: "date" },
      { name: "tags", type: "list<string>" },
      { name: "vec", type: "embedding<3>" },
      { name: "pair", type: "list<double>" },
    ]);
  });

  it("infers only types the services' schema check accepts for that very input (dictionaries once decoded)", () => {
    for (const [i, column] of columnsFrom(schema).entries()) {
      let input = schema.fields[i]!.type;
      if (arrow.DataType.isDictionary(input)) input = input.dictionary;
      expect([column.name, arrowFits(input, parseType(column.type))]).toEqual([column.name, true]);
    }
  });

  it("reads a table, with overrides, descriptions and exclusions", () => {
    const table = new arrow.Table({
      id: arrow.vectorFromArray([1, 2], new arrow.Int32()),
      note: arrow.vectorFromArray(["a", "b"]),
      junk: arrow.vectorFromArray([1, 2], new arrow.Int32()),
    });
    expect(columnsFrom(table, { types: { id: "int64" }, descriptions: { note: "free text" }, exclude: ["junk"] })).toEqual([
      { name: "id", type: "int64" },
      { name: "note", type: "string", description: "free text" },
    ]);
  });

  it("refuses unsupported types naming every such column, and says how to type an all-null column", () => {
    const bad = new arrow.Schema([
      field("ok", new arrow.Int32()),
      field("s", new arrow.Struct([field("x", new arrow.Int32())])),
      field("u64", new arrow.Uint64()),
      field("nothing", new arrow.Null()),
      field("nested", new arrow.List(field("item", new arrow.List(field("item", new arrow.Int32()))))),
    ]);
    let message = "";
    try {
      columnsFrom(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/column "s" is Struct<\{x:Int32\}>, which Granary cannot store/);
    expect(message).toMatch(/column "u64" is Uint64/);
    expect(message).toMatch(/column "nothing" has no type \(every value is null\): give it in options.types/);
    expect(message).toMatch(/column "nested" is List<List<Int32>>/);
    expect(message).toMatch(/Granary stores bool, .*: convert such columns, or leave them out with options.exclude$/);
    expect(message).not.toMatch(/"ok"/);
    expect(columnsFrom(bad, { types: { nothing: "string" }, exclude: ["s", "u64", "nested"] })).toEqual([
      { name: "ok", type: "int32" },
      { name: "nothing", type: "string" },
    ]);
  });

  it("checks the primary key and event time against the table", () => {
    expect(() => columnsFrom(schema, { primaryKey: ["nope"] })).toThrow('primary key "nope" is not a column of the table');
    expect(() => columnsFrom(schema, { primaryKey: ["amount"] })).toThrow('primary key "amount" is double');
    expect(() => columnsFrom(schema, { eventTime: "amount" })).toThrow('event time "amount" is double: it must be a timestamp or a date');
    expect(() => columnsFrom(schema, { eventTime: "day" })).not.toThrow();
    expect(() => columnsFrom(schema, { types: { typo: "int32" } })).toThrow('"typo" is named in options but is not a column of the table');
  });
});
