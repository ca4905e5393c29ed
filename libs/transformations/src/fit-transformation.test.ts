import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { FailedPreconditionError, InvalidArgumentError } from "@granary/errors";
import { ColumnStatisticsSchema, TransformationFunction, type ColumnStatistics } from "@granary/proto/metadata";
import { fitTransformation } from "./fit-transformation.js";
import { fitTransformations } from "./fit-transformations.js";
import { LabelEncoder } from "./label-encoder.js";
import { OneHotEncoder } from "./one-hot-encoder.js";
import { type Scaler } from "./scaler.js";

const F = TransformationFunction;
const stats = (init: Partial<Omit<ColumnStatistics, "$typeName">>) => create(ColumnStatisticsSchema, init);

function failure(fn: TransformationFunction, s: ColumnStatistics | undefined, column: string): string {
  try {
    fitTransformation(fn, s, column);
  } catch (err) {
    expect(err).toBeInstanceOf(FailedPreconditionError);
    return (err as Error).message;
  }
  throw new Error("expected fitTransformation to throw");
}

describe("fitTransformation", () => {
  it("takes each function's parameters from the right statistics", () => {
    const all = stats({ column: "x", min: 1, max: 5, mean: 2, stddev: 3, p25: 1.5, p50: 2.5, p75: 4, categories: ["a", "b"] });
    const pick = (fn: TransformationFunction) => fitTransformation(fn, all, "x") as Scaler;
    expect([pick(F.MIN_MAX_SCALER).center, pick(F.MIN_MAX_SCALER).scale]).toEqual([1, 4]);
    expect([pick(F.STANDARD_SCALER).center, pick(F.STANDARD_SCALER).scale]).toEqual([2, 3]);
    expect([pick(F.ROBUST_SCALER).center, pick(F.ROBUST_SCALER).scale]).toEqual([2.5, 2.5]);
    const label = fitTransformation(F.LABEL_ENCODER, all, "x");
    expect(label).toBeInstanceOf(LabelEncoder);
    expect(label.categories).toEqual(["a", "b"]);
    expect(label.fn).toBe(F.LABEL_ENCODER);
    expect(label.column).toBe("x");
    expect(fitTransformation(F.ONE_HOT_ENCODER, all, "x")).toBeInstanceOf(OneHotEncoder);
  });

  it("explains which statistics are missing, naming the column", () => {
    expect(failure(F.MIN_MAX_SCALER, undefined, "amount")).toBe(
      "min_max_scaler on amount needs min and max of the training split; the training dataset has no statistics for amount",
    );
    expect(failure(F.MIN_MAX_SCALER, stats({ column: "amount", min: 1 }), "amount")).toBe(
      "min_max_scaler on amount needs min and max of the training split; the training dataset's statistics for amount have no max",
    );
    expect(failure(F.STANDARD_SCALER, stats({ column: "age", mean: 1 }), "age")).toBe(
      "standard_scaler on age needs mean and stddev of the training split; the training dataset's statistics for age have no stddev",
    );
    expect(failure(F.ROBUST_SCALER, stats({ column: "age", p50: 1 }), "age")).toBe(
      "robust_scaler on age needs p25, p50 and p75 of the training split; the training dataset's statistics for age have no p25 or p75",
    );
    expect(failure(F.LABEL_ENCODER, stats({ column: "city" }), "city")).toBe(
      "label_encoder on city needs the categories of the training split; the training dataset's statistics for city have no categories",
    );
    expect(failure(F.ONE_HOT_ENCODER, undefined, "city")).toBe(
      "one_hot_encoder on city needs the categories of the training split; the training dataset has no statistics for city",
    );
  });

  it("refuses non-finite statistics, which would turn every value into NaN", () => {
    expect(failure(F.MIN_MAX_SCALER, stats({ column: "t", min: 0, max: Number.POSITIVE_INFINITY }), "t")).toBe(
      "min_max_scaler on t needs min and max of the training split; the training dataset's statistics for t have max = Infinity",
    );
    expect(failure(F.STANDARD_SCALER, stats({ column: "t", mean: Number.NaN, stddev: 1 }), "t")).toMatch(/have mean = NaN$/);
  });

  it("rejects an unspecified or unknown function", () => {
    expect(() => fitTransformation(F.UNSPECIFIED, stats({ min: 0, max: 1 }), "x")).toThrow(InvalidArgumentError);
    expect(() => fitTransformation(42 as TransformationFunction, stats({ min: 0, max: 1 }), "x")).toThrow(/unknown function \(42\)/);
  });
});

describe("fitTransformations", () => {
  const columnStats = [
    stats({ column: "amount", min: 0, max: 200 }),
    stats({ column: "city", categories: ["berlin", "paris"] }),
    stats({ column: "age", mean: 40, stddev: 10 }),
  ];

  it("fits every spec against its column's statistics", () => {
    const fitted = fitTransformations(
      [
        { column: "amount", fn: F.MIN_MAX_SCALER },
        { column: "city", fn: F.ONE_HOT_ENCODER },
      ],
      columnStats,
    );
    expect([...fitted.keys()]).toEqual(["amount", "city"]);
    const amount = fitted.get("amount");
    expect(amount?.outputKind === "double" && amount.applyNumber(50)).toBe(0.25);
    const city = fitted.get("city");
    expect(city?.outputKind === "one_hot" && [...city.applyValue("paris")]).toEqual([0, 1]);
  });

  it("fails on the first column without the statistics it needs", () => {
    expect(() =>
      fitTransformations(
        [
          { column: "amount", fn: F.MIN_MAX_SCALER },
          { column: "zip", fn: F.LABEL_ENCODER },
        ],
        columnStats,
      ),
    ).toThrow("label_encoder on zip needs the categories of the training split; the training dataset has no statistics for zip");
  });

  it("rejects two transformations on one column", () => {
    expect(() =>
      fitTransformations(
        [
          { column: "age", fn: F.STANDARD_SCALER },
          { column: "age", fn: F.MIN_MAX_SCALER },
        ],
        columnStats,
      ),
    ).toThrow(InvalidArgumentError);
  });
});
