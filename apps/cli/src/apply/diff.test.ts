import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { FeatureGroupSchema, FeatureViewSchema, MonitoringConfigSchema } from "@granary/proto/metadata";
import { canonical, describeChange, diffGroup, diffView } from "./diff.js";

describe("describing a change", () => {
  it("points at the differing leaves of nested definitions", () => {
    const from = { feature_group: { name: "t", version: 1 }, filter: { condition: { column: "amount", operator: "FILTER_OPERATOR_GE" } } };
    const to = { feature_group: { name: "t", version: 2 }, filter: { condition: { column: "amount", operator: "FILTER_OPERATOR_GT" } } };
    expect(describeChange(from, to)).toBe('feature_group.version: 1 → 2; filter.condition.operator: "FILTER_OPERATOR_GE" → "FILTER_OPERATOR_GT"');
  });

  it("shows lists of another length whole, and unset values as unset", () => {
    expect(describeChange(["a"], ["a", "b"])).toBe('["a"] → ["a", "b"]');
    expect(describeChange(undefined, { seconds: "60s" })).toBe('unset → { seconds: "60s" }');
    expect(describeChange([{ name: "x", v: 1 }], [{ name: "x", v: 2 }])).toBe("[0].v: 1 → 2");
  });

  it("compares maps whatever their key order", () => {
    expect(canonical({ a: 1, b: { d: 2, c: 3 } })).toBe(canonical({ b: { c: 3, d: 2 }, a: 1 }));
  });
});

describe("diffing a group", () => {
  it("ignores what the server assigns: ids, times, etag, and who created the version", () => {
    const server = create(FeatureGroupSchema, { project: "p", name: "g", version: 1, id: 7n, etag: "e", createdBy: "admin", description: "d" });
    const local = create(FeatureGroupSchema, { project: "p", name: "g", version: 1, description: "d" });
    expect(diffGroup(server, local)).toEqual({ appended: [], mutable: [], immutable: [] });
  });
});

describe("diffing a view", () => {
  it("keeps the logging and monitoring the SDK set when the file does not declare them, and updates monitoring the file declares", () => {
    const monitoring = create(MonitoringConfigSchema, { defaultThresholds: { psi: 0.3 } });
    const server = create(FeatureViewSchema, { project: "p", name: "v", version: 1, logging: { onlineEnabled: true, sampleRate: 0.5 }, monitoring });
    const silent = create(FeatureViewSchema, { project: "p", name: "v", version: 1 });
    expect(diffView(server, silent)).toEqual({ appended: [], mutable: [], immutable: [] });
    const declared = create(FeatureViewSchema, { project: "p", name: "v", version: 1, monitoring: { defaultThresholds: { psi: 0.2 } } });
    expect(diffView(server, declared).mutable).toEqual([{ field: "monitoring", detail: "default_thresholds.psi: 0.3 → 0.2" }]);
  });
});
