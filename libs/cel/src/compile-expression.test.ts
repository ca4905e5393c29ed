import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";
import { DataTypeSchema, ScalarType, type DataType } from "@granary/proto/types";
import { compileExpression } from "./compile-expression.js";

const t = (scalar: ScalarType, list = false): DataType => create(DataTypeSchema, { scalar, list });
const inputs = new Map<string, DataType>([
  ["amount", t(ScalarType.DOUBLE)],
  ["count", t(ScalarType.INT64)],
  ["category", t(ScalarType.STRING)],
  ["lat", t(ScalarType.DOUBLE)],
  ["lon", t(ScalarType.DOUBLE)],
  ["prev_lat", t(ScalarType.DOUBLE)],
  ["prev_lon", t(ScalarType.DOUBLE)],
  ["embedding", t(ScalarType.FLOAT, true)],
]);

function problem(expression: string, output: DataType): string {
  try {
    compileExpression(expression, inputs, output);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error(`expected ${expression} to be rejected`);
}

describe("compileExpression", () => {
  it("evaluates a checked expression", () => {
    const e = compileExpression("amount * 2.0 + double(count)", inputs, t(ScalarType.DOUBLE));
    expect(e.evaluate({ amount: 10, count: 3n, category: "x", lat: 0, lon: 0, prev_lat: 0, prev_lon: 0, embedding: [] })).toBe(23);
  });

  it("computes the haversine distance of the fraud example", () => {
    const e = compileExpression("geo.haversine_km(lat, lon, prev_lat, prev_lon)", inputs, t(ScalarType.DOUBLE));
    // Stockholm → Copenhagen, about 522 km.
    const km = e.evaluate({ lat: 59.3293, lon: 18.0686, prev_lat: 55.6761, prev_lon: 12.5683, amount: 0, count: 0n, category: "", embedding: [] });
    expect(km).toBeGreaterThan(515);
    expect(km).toBeLessThan(530);
  });

  it("accepts methods, comprehensions and conditionals", () => {
    expect(() => compileExpression("category.size() > 3 ? 1 : 0", inputs, t(ScalarType.INT64))).not.toThrow();
    expect(() => compileExpression("embedding.exists(x, x > 0.5)", inputs, t(ScalarType.BOOL))).not.toThrow();
    expect(() => compileExpression("math.sqrt(math.pow(amount, 2.0))", inputs, t(ScalarType.DOUBLE))).not.toThrow();
  });

  it("rejects syntax errors, unknown variables, type errors and wrong result types", () => {
    expect(problem("amount >", t(ScalarType.BOOL))).toMatch(/does not parse/);
    expect(problem("amount * discount", t(ScalarType.DOUBLE))).toMatch(/unknown variable "discount"/);
    expect(problem("amount * 2", t(ScalarType.DOUBLE))).toMatch(/does not type-check.*double, int/);
    expect(problem("math.sqrt(count)", t(ScalarType.DOUBLE))).toMatch(/does not type-check/);
    expect(problem("category + '!'", t(ScalarType.DOUBLE))).toMatch(/yields string but the feature is declared double/);
  });
});
