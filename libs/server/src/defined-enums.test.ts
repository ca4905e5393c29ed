import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";
import { CreateFeatureViewRequestSchema, DatasetSplit, FilterOperator, TransformationFunction } from "@granary/proto/metadata";
import { ReadTrainingDatasetRequestSchema } from "@granary/proto/offline";
import { GetFeatureVectorsRequestSchema } from "@granary/proto/online";
import { checkDefinedEnums } from "./defined-enums.js";
import { validateRequest } from "./request-validator.js";

function refusal(run: () => void): InvalidArgumentError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  throw new Error("expected the request to be refused");
}

const readRequest = (split: number) => create(ReadTrainingDatasetRequestSchema, { project: "p", featureView: { name: "v", version: 1 }, version: 1, split });

function viewRequest(operator: number, fn: number) {
  return create(CreateFeatureViewRequestSchema, {
    featureView: {
      project: "p",
      name: "v",
      query: { filter: { kind: { case: "and", value: { filters: [{}, { kind: { case: "condition", value: { column: "amount", operator } } }] } } } },
      transformations: [{ column: "amount", function: fn }],
    },
  });
}

describe("enum values in requests", () => {
  it("accept every declared value, unspecified included", () => {
    for (const split of [DatasetSplit.UNSPECIFIED, DatasetSplit.TRAIN])
      expect(() => validateRequest(ReadTrainingDatasetRequestSchema, readRequest(split))).not.toThrow();
    expect(() => validateRequest(CreateFeatureViewRequestSchema, viewRequest(FilterOperator.EQ, 0))).not.toThrow();
  });

  it("refuse a number no value declares, naming the field (split=99)", () => {
    const err = refusal(() => validateRequest(ReadTrainingDatasetRequestSchema, readRequest(99)));
    expect(err.field).toBe("split");
    expect(err.message).toBe("invalid request: split: 99 is not a value of granary.metadata.v1.DatasetSplit");
  });

  it("find one nested in oneofs and lists", () => {
    expect(refusal(() => validateRequest(CreateFeatureViewRequestSchema, viewRequest(42, 0))).field).toBe(
      "feature_view.query.filter.and.filters[1].condition.operator",
    );
    const lastFunction = Math.max(...Object.values(TransformationFunction).filter((v): v is number => typeof v === "number"));
    expect(refusal(() => validateRequest(CreateFeatureViewRequestSchema, viewRequest(FilterOperator.EQ, lastFunction + 1))).field).toBe(
      "feature_view.transformations[0].function",
    );
  });

  it("leave requests that hold no enum alone", () => {
    expect(() => checkDefinedEnums(GetFeatureVectorsRequestSchema, create(GetFeatureVectorsRequestSchema, { project: "p" }))).not.toThrow();
  });
});
