import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ValidationPolicy, ValidationReportSchema } from "@granary/proto/metadata";
import { ValueSchema } from "@granary/proto/types";
import { featureValueOf, plainValidationReport } from "./validation-report.js";

describe("plainValidationReport", () => {
  it("turns a refused insert's report into plain values", () => {
    const report = create(ValidationReportSchema, {
      id: "r1",
      commitId: 0n,
      success: false,
      ingested: false,
      createTime: timestampFromMs(Date.UTC(2025, 0, 2)),
      results: [
        {
          rule: "amount_sane",
          column: "amount",
          policy: ValidationPolicy.FAIL,
          success: false,
          evaluatedCount: 10n,
          unexpectedCount: 2n,
          unexpectedExamples: [{ kind: { case: "doubleValue", value: 5000 } }, { kind: { case: "stringValue", value: "x" } }],
          message: "too large",
        },
        { rule: "known", column: "m", policy: ValidationPolicy.WARN, success: true, evaluatedCount: 10n },
      ],
    });
    expect(plainValidationReport(report)).toEqual({
      id: "r1",
      commitId: undefined,
      success: false,
      ingested: false,
      createTime: new Date(Date.UTC(2025, 0, 2)),
      results: [
        {
          rule: "amount_sane",
          column: "amount",
          policy: "fail",
          success: false,
          evaluatedCount: 10,
          unexpectedCount: 2,
          unexpectedExamples: [5000, "x"],
          message: "too large",
        },
        { rule: "known", column: "m", policy: "warn", success: true, evaluatedCount: 10, unexpectedCount: 0, unexpectedExamples: [], message: "" },
      ],
    });
    expect(plainValidationReport(create(ValidationReportSchema, { commitId: 7n })).commitId).toBe(7n);
  });

  it("reads every kind of value as the SDK returns values", () => {
    const v = (kind: Parameters<typeof create<typeof ValueSchema>>[1]) => featureValueOf(create(ValueSchema, kind));
    expect(v({})).toBeNull();
    expect(v({ kind: { case: "int64Value", value: 42n } })).toBe(42);
    expect(v({ kind: { case: "int64Value", value: 2n ** 60n } })).toBe(2n ** 60n);
    expect(v({ kind: { case: "dateValue", value: 1 } })).toEqual(new Date(86_400_000));
    expect(v({ kind: { case: "timestampValue", value: timestampFromMs(1500) } })).toEqual(new Date(1500));
    expect(v({ kind: { case: "listValue", value: { values: [{ kind: { case: "boolValue", value: true } }] } } })).toEqual([true]);
  });
});
