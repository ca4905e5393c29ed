import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { SplitSpecSchema, ValidationPolicy, ValidationRuleSchema, type SplitSpec, type ValidationRule } from "@granary/proto/metadata";
import { toValue, type FeatureValue } from "./values.js";

/** A time window; an open end is unbounded. */
export interface TimeWindow {
  readonly start?: Date;
  readonly end?: Date;
}

/** Splits for createTrainingDataset: random fractions, or event-time windows (Hopsworks' train_start … test_end). */
export const split = {
  /** Fractions that sum to 1; the same seed gives the same split. */
  random(fractions: { train: number; validation?: number; test: number; seed?: number }): SplitSpec {
    const { train, validation = 0, test, seed = 42 } = fractions;
    if (Math.abs(train + validation + test - 1) > 1e-9) throw new RangeError(`split fractions must sum to 1, got ${train + validation + test}`);
    return create(SplitSpecSchema, { kind: { case: "random", value: { seed: BigInt(seed), train, validation, test } } });
  },
  /** Rows by the label's event time: train, optional validation, test windows. */
  time(windows: { train: TimeWindow; validation?: TimeWindow; test: TimeWindow }): SplitSpec {
    const range = (w: TimeWindow | undefined) =>
      w ? { start: w.start ? timestampFromMs(w.start.getTime()) : undefined, end: w.end ? timestampFromMs(w.end.getTime()) : undefined } : undefined;
    return create(SplitSpecSchema, {
      kind: { case: "time", value: { train: range(windows.train), validation: range(windows.validation), test: range(windows.test) } },
    });
  },
};

export interface RuleOptions {
  /** "fail" rejects the insert (nothing written); "warn" writes it and stores the report. Default "fail". */
  readonly policy?: "fail" | "warn";
  readonly name?: string;
}

function rule(column: string, options: RuleOptions, kind: ValidationRule["rule"], what: string): ValidationRule {
  return create(ValidationRuleSchema, {
    name: options.name ?? `${column}_${what}`,
    column,
    policy: options.policy === "warn" ? ValidationPolicy.WARN : ValidationPolicy.FAIL,
    rule: kind,
  });
}

/** Validation rules for a feature group (Great Expectations-style expectations checked on insert). */
export const rules = {
  between(column: string, bounds: { min?: number; max?: number }, options: RuleOptions = {}): ValidationRule {
    return rule(column, options, { case: "between", value: { $typeName: "granary.metadata.v1.BetweenRule", min: bounds.min, max: bounds.max } }, "between");
  },
  notNull(column: string, options: RuleOptions = {}): ValidationRule {
    return rule(column, options, { case: "notNull", value: { $typeName: "granary.metadata.v1.NotNullRule" } }, "not_null");
  },
  unique(column: string, options: RuleOptions = {}): ValidationRule {
    return rule(column, options, { case: "unique", value: { $typeName: "granary.metadata.v1.UniqueRule" } }, "unique");
  },
  valuesInSet(column: string, values: readonly FeatureValue[], options: RuleOptions = {}): ValidationRule {
    return rule(
      column,
      options,
      { case: "valuesInSet", value: { $typeName: "granary.metadata.v1.ValuesInSetRule", values: values.map((v) => toValue(v)) } },
      "in_set",
    );
  },
  matches(column: string, pattern: string, options: RuleOptions = {}): ValidationRule {
    return rule(column, options, { case: "regexMatch", value: { $typeName: "granary.metadata.v1.RegexMatchRule", pattern } }, "matches");
  },
};
