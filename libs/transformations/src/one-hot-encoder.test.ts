import { describe, expect, it } from "@jest/globals";
import { TransformationFunction } from "@granary/proto/metadata";
import { OneHotEncoder } from "./one-hot-encoder.js";

const colours = new OneHotEncoder(TransformationFunction.ONE_HOT_ENCODER, "colour", ["blue", "green", "red"]);

describe("OneHotEncoder", () => {
  it("puts a 1 at the category's index", () => {
    expect(colours.outputKind).toBe("one_hot");
    expect(colours.width).toBe(3);
    const v = colours.applyValue("green");
    expect(v).toBeInstanceOf(Float32Array);
    expect([...v]).toEqual([0, 1, 0]);
    expect([...colours.applyValue("red")]).toEqual([0, 0, 1]);
  });

  it("gives all zeros for an unseen category and for null", () => {
    expect([...colours.applyValue("purple")]).toEqual([0, 0, 0]);
    expect([...colours.applyValue(null)]).toEqual([0, 0, 0]);
    expect([...colours.applyValue(undefined)]).toEqual([0, 0, 0]);
  });

  it("writes into a batch buffer at an offset, overwriting what was there", () => {
    const out = new Float32Array(8).fill(7);
    colours.applyValueInto("blue", out, 1);
    colours.applyValueInto("unseen", out, 4);
    expect([...out]).toEqual([7, 1, 0, 0, 0, 0, 0, 7]);
    expect(() => colours.applyValueInto("blue", out, 6)).toThrow(RangeError);
  });

  it("encodes a column row after row; null rows are all zeros", () => {
    const out = new Float32Array(12).fill(7);
    colours.applyColumn(["red", "red", "pink", "blue"], (i) => i !== 1, out);
    expect([...out]).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
  });

  it("compares bool values through String()", () => {
    const flags = new OneHotEncoder(TransformationFunction.ONE_HOT_ENCODER, "flag", ["false", "true"]);
    expect([...flags.applyValue(true)]).toEqual([0, 1]);
  });
});
