import { describe, expect, it } from "@jest/globals";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { loggingSchema } from "@granary/catalogue-rules";
import { InvalidArgumentError } from "@granary/errors";
import { ColumnRole, FeatureViewSchema, TransformationFunction } from "@granary/proto/metadata";
import { LogFeaturesRequestSchema } from "@granary/proto/offline";
import { DataTypeSchema, ScalarType, type ColumnData } from "@granary/proto/types";
import { logRows } from "./log-rows.js";

const t = (scalar: ScalarType, list = false, dimension = 0) => create(DataTypeSchema, { scalar, list, dimension });
const schema = loggingSchema(
  create(FeatureViewSchema, {
    project: "p",
    name: "v",
    version: 1,
    servingKeys: [{ name: "id", type: t(ScalarType.INT64) }],
    outputColumns: [
      { name: "amount", type: t(ScalarType.DOUBLE), role: ColumnRole.FEATURE, transformation: TransformationFunction.MIN_MAX_SCALER },
      { name: "emb", type: t(ScalarType.FLOAT, true, 2), role: ColumnRole.FEATURE },
      { name: "label", type: t(ScalarType.INT64), role: ColumnRole.LABEL },
    ],
  }),
);
const doubles = (values: number[], nullIndexes: number[] = []) => ({ values: { case: "doubles", value: { values } }, nullIndexes }) as unknown as ColumnData;
const request = (init: Partial<MessageInitShape<typeof LogFeaturesRequestSchema>>) =>
  create(LogFeaturesRequestSchema, { project: "p", featureView: { name: "v", version: 1 }, rowCount: 2, ...init } as MessageInitShape<
    typeof LogFeaturesRequestSchema
  >);
const column = (rows: ReturnType<typeof logRows>, name: string) => rows.columns.find((c) => c.name === name)?.data;
const values = (data: ColumnData | undefined) => (data?.values.value as { values: unknown[] }).values;

describe("logRows", () => {
  it("maps each part to the logging group's columns, converting to their types", () => {
    const rows = logRows(
      request({
        servingKeys: [{ name: "id", data: { values: { case: "int32s", value: { values: [1, 2] } } } }],
        untransformed: [
          { name: "amount", data: doubles([5, 0], [1]) },
          {
            name: "emb",
            data: { values: { case: "lists", value: { offsets: [0, 2, 4], items: { values: { case: "doubles", value: { values: [1, 2, 3, 4] } } } } } },
          },
        ],
        transformed: [{ name: "amount", data: doubles([0.5, 0.7]) }],
        predictions: [{ name: "label", data: { values: { case: "int64s", value: { values: [0n, 1n] } } } }],
        model: "m",
        modelVersion: 3,
      }),
      schema,
      1_000_000n,
    );
    expect(rows.columns.map((c) => c.name).sort()).toEqual(
      [
        "amount",
        "amount_transformed",
        "emb",
        "id",
        "log_id",
        "log_time",
        "model",
        "model_version",
        "predicted_label",
        "source",
        "training_dataset_version",
      ].sort(),
    );
    expect(values(column(rows, "id"))).toEqual([1n, 2n]);
    expect(column(rows, "amount")!.nullIndexes).toEqual([1]);
    expect(column(rows, "emb")!.values.case).toBe("lists");
    expect(values(column(rows, "log_time"))).toEqual([1_000_000n, 1_000_000n]);
    expect(values(column(rows, "source"))).toEqual(["client", "client"]);
    expect(column(rows, "training_dataset_version")!.nullIndexes).toEqual([0, 1]);
    const ids = values(column(rows, "log_id")) as string[];
    expect(new Set(ids).size).toBe(2);
  });

  it.each([
    ["an unknown column", { untransformed: [{ name: "x", data: doubles([1, 2]) }] }, /untransformed\[0\]: "x" is not an output column/],
    ["a label as a feature", { untransformed: [{ name: "label", data: doubles([1, 2]) }] }, /"label" is not an output column/],
    [
      "a column twice",
      {
        untransformed: [
          { name: "amount", data: doubles([1, 2]) },
          { name: "amount", data: doubles([1, 2]) },
        ],
      },
      /given twice/,
    ],
    ["too few values", { untransformed: [{ name: "amount", data: doubles([1]) }] }, /has 1 values, row_count is 2/],
    ["a narrowing type", { servingKeys: [{ name: "id", data: doubles([1, 2]) }] }, /has doubles, the column holds int64/],
    [
      "a wrong dimension",
      {
        untransformed: [
          { name: "emb", data: { values: { case: "lists", value: { offsets: [0, 1, 2], items: { values: { case: "floats", value: { values: [1, 2] } } } } } } },
        ],
      },
      /row 0 has 1 values, the column's dimension is 2/,
    ],
    ["no values", { untransformed: [{ name: "amount", data: {} }] }, /has no values/],
    ["a prediction of no label", { predictions: [{ name: "prediction", data: doubles([1, 2]) }] }, /"prediction" is not a label/],
  ])("refuses %s", (_what, init, message) => {
    expect(() => logRows(request(init as never), schema, 0n)).toThrow(InvalidArgumentError);
    expect(() => logRows(request(init as never), schema, 0n)).toThrow(message);
  });
});
