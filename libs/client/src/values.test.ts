import { describe, expect, it } from "@jest/globals";
import { ScalarType } from "@granary/proto/types";
import { parseType, typeName } from "./column-types.js";
import { feature, Query } from "./query.js";
import { SelectionMode } from "@granary/proto/metadata";
import { fromPlain, namedColumn, readColumnValue, tableFromRows, toPlain, toValue } from "./values.js";
import { toColumn } from "./column-types.js";

describe("column types", () => {
  it("parses the names users write, and prints them back", () => {
    expect(parseType("double")).toMatchObject({ scalar: ScalarType.DOUBLE, list: false });
    expect(parseType("list<string>")).toMatchObject({ scalar: ScalarType.STRING, list: true });
    expect(parseType("embedding<384>")).toMatchObject({ scalar: ScalarType.FLOAT, list: true, dimension: 384 });
    for (const name of ["bool", "int32", "int64", "float", "double", "string", "bytes", "timestamp", "date", "list<int64>", "embedding<8>"]) {
      expect(typeName(parseType(name))).toBe(name);
    }
  });

  it("names the choices when a type is unknown", () => {
    expect(() => parseType("dobule")).toThrow(/unknown column type "dobule": use one of bool, .*double/);
  });
});

describe("values", () => {
  const T = (name: string) => parseType(name);

  it("converts user values to the engine's and back", () => {
    const at = new Date("2025-03-04T05:06:07.089Z");
    expect(toPlain(T("timestamp"), at)).toBe(BigInt(at.getTime()) * 1000n);
    expect(toPlain(T("timestamp"), "2025-03-04T05:06:07.089Z")).toBe(BigInt(at.getTime()) * 1000n);
    expect(fromPlain(T("timestamp"), BigInt(at.getTime()) * 1000n)).toEqual(at);
    expect(toPlain(T("date"), "2025-01-02")).toBe(20090);
    expect(fromPlain(T("date"), 20090)).toEqual(new Date("2025-01-02T00:00:00Z"));
    expect(toPlain(T("int64"), 7)).toBe(7n);
    expect(fromPlain(T("int64"), 7n)).toBe(7);
    expect(fromPlain(T("int64"), 2n ** 60n)).toBe(2n ** 60n);
    expect(toPlain(T("list<double>"), [1, 2.5])).toEqual([1, 2.5]);
    expect(toPlain(T("double"), null)).toBeNull();
  });

  it("names the row and column of a value that does not fit", () => {
    expect(() => toPlain(T("int64"), 1.5, 'row 3, column "id"')).toThrow('row 3, column "id": expected an integer, got number 1.5');
    expect(() => toPlain(T("timestamp"), "yesterday", "t")).toThrow(/t: expected a Date, an ISO-8601 string or epoch milliseconds/);
    expect(() => toPlain(T("bool"), "yes", "b")).toThrow(/b: expected a boolean/);
  });

  it("builds typed Arrow tables from rows, nulls included", () => {
    const columns = [
      toColumn({ name: "id", type: "int64" }),
      toColumn({ name: "x", type: "double" }),
      toColumn({ name: "t", type: "timestamp" }),
      toColumn({ name: "tags", type: "list<string>" }),
    ];
    const table = tableFromRows(columns, [
      { id: 1, x: 0.5, t: new Date(1000), tags: ["a"] },
      { id: 2, x: null, t: new Date(2000), tags: [] },
    ]);
    expect(table.numRows).toBe(2);
    expect(table.schema.fields.map((f) => f.name)).toEqual(["id", "x", "t", "tags"]);
    expect(table.getChild("id")?.get(1)).toBe(2n);
    expect(table.getChild("x")?.get(1)).toBeNull();
    expect(table.getChild("tags")?.get(0)?.toArray()).toEqual(["a"]);
  });

  it("round-trips request columns, with nulls and lists", () => {
    const col = namedColumn("v", T("list<int64>"), [[1, 2], null, [3]]);
    expect(col.data?.nullIndexes).toEqual([1]);
    expect(readColumnValue(col.data, T("list<int64>"), 0)).toEqual([1, 2]);
    expect(readColumnValue(col.data, T("list<int64>"), 1)).toBeNull();
    expect(readColumnValue(col.data, T("list<int64>"), 2)).toEqual([3]);
    const strings = namedColumn("s", T("string"), ["a", undefined]);
    expect(readColumnValue(strings.data, T("string"), 0)).toBe("a");
    expect(readColumnValue(strings.data, T("string"), 1)).toBeNull();
  });

  it("types literals by the column when known, by the JavaScript value otherwise", () => {
    expect(toValue(3, T("double")).kind).toEqual({ case: "doubleValue", value: 3 });
    expect(toValue(3).kind).toEqual({ case: "int64Value", value: 3n });
    expect(toValue(2.5).kind).toEqual({ case: "doubleValue", value: 2.5 });
    expect(toValue("x").kind).toEqual({ case: "stringValue", value: "x" });
  });
});

describe("query builder", () => {
  const left = { name: "trans", version: 1, columns: [toColumn({ name: "amount", type: "double" }), toColumn({ name: "cc_num", type: "int64" })] };
  const right = { name: "cards", version: 2, columns: [toColumn({ name: "limit", type: "int32" })] };

  it("builds joins and AND-ed filters with literals typed by the joined groups' columns", () => {
    const q = Query.of(left, SelectionMode.ALL)
      .join(Query.of(right, SelectionMode.INCLUDE, ["limit"]), { leftOn: ["cc_num"], rightOn: ["cc_num"], prefix: "c_" })
      .filter(feature("amount").gt(100))
      .filter(feature("limit").le(5).or(feature("limit").isNull()));
    expect(q.message.featureGroup).toMatchObject({ name: "trans", version: 1 });
    expect(q.message.joins[0]).toMatchObject({ leftOn: ["cc_num"], rightOn: ["cc_num"], prefix: "c_" });
    expect(q.message.joins[0]?.query?.featureGroup).toMatchObject({ name: "cards", version: 2 });
    const filter = q.message.filter!;
    expect(filter.kind.case).toBe("and");
    const [first, second] = filter.kind.case === "and" ? filter.kind.value.filters : [];
    expect(first?.kind.case === "condition" && first.kind.value.value?.kind).toEqual({ case: "doubleValue", value: 100 });
    expect(second?.kind.case).toBe("or");
    const limit = second?.kind.case === "or" ? second.kind.value.filters[0] : undefined;
    expect(limit?.kind.case === "condition" && limit.kind.value.value?.kind).toEqual({ case: "int32Value", value: 5 });
  });

  it("is immutable: a join or filter returns a new query", () => {
    const base = Query.of(left, SelectionMode.ALL);
    base.filter(feature("amount").gt(1));
    expect(base.message.filter).toBeUndefined();
  });
});
