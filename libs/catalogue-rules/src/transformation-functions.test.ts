import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { TransformationFunction } from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType } from "@granary/proto/types";
import { isCategoricalType, isNumericType, TRANSFORMATION_FUNCTIONS } from "./transformation-functions.js";

const t = (scalar: ScalarType, list = false) => create(DataTypeSchema, { scalar, list });

describe("TRANSFORMATION_FUNCTIONS", () => {
  it("describes the five built-ins with their statistics and types", () => {
    expect(TRANSFORMATION_FUNCTIONS.map((f) => [TransformationFunction[f.function], f.name, f.parameters, f.outputType?.scalar, f.outputType?.list])).toEqual([
      ["MIN_MAX_SCALER", "min_max_scaler", ["min", "max"], ScalarType.DOUBLE, false],
      ["STANDARD_SCALER", "standard_scaler", ["mean", "stddev"], ScalarType.DOUBLE, false],
      ["ROBUST_SCALER", "robust_scaler", ["p25", "p50", "p75"], ScalarType.DOUBLE, false],
      ["LABEL_ENCODER", "label_encoder", ["categories"], ScalarType.INT64, false],
      ["ONE_HOT_ENCODER", "one_hot_encoder", ["categories"], ScalarType.FLOAT, true],
    ]);
    for (const f of TRANSFORMATION_FUNCTIONS) {
      expect(f.description).not.toBe("");
      expect(f.description).not.toContain("\n");
      const accepts = f.parameters.includes("categories") ? isCategoricalType : isNumericType;
      expect(f.inputTypes.every((s) => accepts(t(s)))).toBe(true);
    }
  });

  it("classifies numeric and categorical types; lists are neither", () => {
    const numeric = [ScalarType.INT32, ScalarType.INT64, ScalarType.FLOAT, ScalarType.DOUBLE];
    const categorical = [ScalarType.STRING, ScalarType.BOOL, ScalarType.INT32, ScalarType.INT64];
    for (const scalar of Object.values(ScalarType).filter((v): v is ScalarType => typeof v === "number")) {
      expect(isNumericType(t(scalar))).toBe(numeric.includes(scalar));
      expect(isCategoricalType(t(scalar))).toBe(categorical.includes(scalar));
      expect(isNumericType(t(scalar, true))).toBe(false);
      expect(isCategoricalType(t(scalar, true))).toBe(false);
    }
  });
});
