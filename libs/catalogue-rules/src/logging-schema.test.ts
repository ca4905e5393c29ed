import { describe, expect, it } from "@jest/globals";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { FailedPreconditionError, InvalidArgumentError } from "@granary/errors";
import { ColumnRole, FeatureViewSchema, TransformationFunction, type FeatureView } from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType, type DataType } from "@granary/proto/types";
import { loggingFeatureGroup, loggingSchema, RESERVED_LOGGING_NAME } from "./logging-schema.js";
import { validateFeatureGroup } from "./feature-group-rules.js";

const t = (scalar: ScalarType, list = false): DataType => create(DataTypeSchema, { scalar, list });
const { BOOL, INT64, DOUBLE, STRING } = ScalarType;

function view(overrides: MessageInitShape<typeof FeatureViewSchema> = {}): FeatureView {
  return create(FeatureViewSchema, {
    project: "shop",
    name: "fraud",
    version: 2,
    servingKeys: [{ name: "cc_num", type: t(INT64), required: true }],
    outputColumns: [
      { name: "amount", type: t(DOUBLE), role: ColumnRole.FEATURE, transformation: TransformationFunction.STANDARD_SCALER },
      { name: "category", type: t(STRING), role: ColumnRole.FEATURE, transformation: TransformationFunction.ONE_HOT_ENCODER },
      { name: "merchant", type: t(STRING), role: ColumnRole.FEATURE, transformation: TransformationFunction.LABEL_ENCODER },
      { name: "is_fraud", type: t(BOOL), role: ColumnRole.LABEL },
      { name: "km", type: t(DOUBLE), role: ColumnRole.ON_DEMAND },
      { name: "country", type: t(STRING), role: ColumnRole.INFERENCE_HELPER },
    ],
    onDemandFeatures: [
      {
        name: "km",
        type: t(DOUBLE),
        expression: "lat + lon",
        requestParameters: [
          { name: "lat", type: t(DOUBLE) },
          { name: "lon", type: t(DOUBLE) },
        ],
      },
    ],
    ...overrides,
  });
}

const summary = (v: FeatureView) => loggingSchema(v).columns.map((c) => `${c.name}:${ScalarType[c.type!.scalar]}${c.type!.list ? "[]" : ""}`);

describe("loggingSchema", () => {
  it("lays out keys, untransformed and transformed features, request parameters, predictions and the log's own columns", () => {
    expect(summary(view())).toEqual([
      "log_id:STRING",
      "log_time:TIMESTAMP",
      "cc_num:INT64",
      "amount:DOUBLE",
      "category:STRING",
      "merchant:STRING",
      "km:DOUBLE",
      "country:STRING",
      "amount_transformed:DOUBLE",
      "category_transformed:FLOAT[]",
      "merchant_transformed:INT64",
      "request_lat:DOUBLE",
      "request_lon:DOUBLE",
      "predicted_is_fraud:BOOL",
      "model:STRING",
      "model_version:INT32",
      "training_dataset_version:INT32",
      "source:STRING",
    ]);
  });

  it("gives a view without labels one prediction double, and keeps a key that is also a feature once", () => {
    const v = view({
      outputColumns: [{ name: "cc_num", type: t(INT64), role: ColumnRole.FEATURE }],
      onDemandFeatures: [],
    });
    expect(summary(v)).toEqual([
      "log_id:STRING",
      "log_time:TIMESTAMP",
      "cc_num:INT64",
      "prediction:DOUBLE",
      "model:STRING",
      "model_version:INT32",
      "training_dataset_version:INT32",
      "source:STRING",
    ]);
  });

  it("refuses a view whose columns would clash with different types", () => {
    const v = view({ servingKeys: [{ name: "model", type: t(INT64), required: true }] });
    expect(() => loggingSchema(v)).toThrow(FailedPreconditionError);
  });
});

describe("loggingFeatureGroup", () => {
  it("is a valid group named <view>_<version>_logging, keyed by log_id, event time log_time, offline only, no statistics", () => {
    const g = loggingFeatureGroup(view(), "alice");
    expect(g.name).toBe("fraud_2_logging");
    expect(RESERVED_LOGGING_NAME.test(g.name)).toBe(true);
    expect([g.version, g.primaryKey, g.eventTime, g.onlineEnabled, g.statisticsConfig?.enabled, g.createdBy]).toEqual([
      1,
      ["log_id"],
      "log_time",
      false,
      false,
      "alice",
    ]);
    expect(() => validateFeatureGroup(g)).not.toThrow();
  });

  it("refuses a name longer than 63 characters", () => {
    expect(() => loggingFeatureGroup(view({ name: "v".repeat(55) }), "alice")).toThrow(InvalidArgumentError);
    expect(loggingFeatureGroup(view({ name: "v".repeat(53) }), "alice").name).toHaveLength(63);
  });

  it("reserves only the logging pattern", () => {
    expect(["x_1_logging", "fraud_12_logging"].map((n) => RESERVED_LOGGING_NAME.test(n))).toEqual([true, true]);
    expect(["logging", "x_logging", "x_1_logging_v2", "x1_logging"].map((n) => RESERVED_LOGGING_NAME.test(n))).toEqual([false, false, false, false]);
  });
});
