import { describe, expect, it } from "@jest/globals";
import { TransformationFunction } from "@granary/proto/metadata";
import { LabelEncoder } from "./label-encoder.js";

const cities = new LabelEncoder(TransformationFunction.LABEL_ENCODER, "city", ["berlin", "lisbon", "paris"]);

describe("LabelEncoder", () => {
  it("maps a category to its index in the sorted categories", () => {
    expect(cities.outputKind).toBe("int64");
    expect(cities.categories).toEqual(["berlin", "lisbon", "paris"]);
    expect(["berlin", "lisbon", "paris"].map((c) => cities.applyValue(c))).toEqual([0, 1, 2]);
  });

  it("maps an unseen category to -1", () => {
    expect(cities.applyValue("oslo")).toBe(-1);
    expect(cities.applyValue("Berlin")).toBe(-1);
    expect(cities.applyValue("")).toBe(-1);
  });

  it("compares bool and integer values through String()", () => {
    const flags = new LabelEncoder(TransformationFunction.LABEL_ENCODER, "flag", ["false", "true"]);
    expect([false, true].map((v) => flags.applyValue(v))).toEqual([0, 1]);
    const codes = new LabelEncoder(TransformationFunction.LABEL_ENCODER, "code", ["-7", "10", "9"]);
    expect([-7, 10, 9n, 10n, 11].map((v) => codes.applyValue(v))).toEqual([0, 1, 2, 1, -1]);
  });

  it("encodes a column; null rows hold 0 and stay null through the caller's validity", () => {
    const out = new Int32Array(5).fill(99);
    cities.applyColumn(["paris", "", "oslo", "berlin", "lisbon"], new Uint8Array([1, 0, 1, 1, 1]), out);
    expect([...out]).toEqual([2, 0, -1, 0, 1]);

    const asDoubles = new Float64Array(2);
    new LabelEncoder(TransformationFunction.LABEL_ENCODER, "n", ["1", "2"]).applyColumn(new BigInt64Array([2n, 3n]), undefined, asDoubles);
    expect([...asDoubles]).toEqual([1, -1]);
  });

  it("inverts an index back to its category", () => {
    expect(cities.inverseValue(1)).toBe("lisbon");
    expect(cities.inverseValue(-1)).toBeUndefined();
    expect(cities.inverseValue(3)).toBeUndefined();
    expect(cities.inverseValue(0.5)).toBeUndefined();
    for (const c of cities.categories) expect(cities.inverseValue(cities.applyValue(c))).toBe(c);
  });
});
