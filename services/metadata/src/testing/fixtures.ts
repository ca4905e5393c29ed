import { create } from "@bufbuild/protobuf";
import { FeatureGroupSchema, type FeatureGroup } from "@granary/proto/metadata";
import { ScalarType } from "@granary/proto/types";

/** Fields to override in a fixture. */
export type GroupInit = Partial<Omit<FeatureGroup, "$typeName" | "$unknown">>;

/** The transactions group of the fraud example, overridable field by field. */
export function transactionsGroup(project: string, overrides: GroupInit = {}): FeatureGroup {
  return create(FeatureGroupSchema, {
    project,
    name: "transactions",
    version: 1,
    description: "credit card transactions with fraud labels",
    columns: [
      { name: "tid", type: { scalar: ScalarType.STRING } },
      { name: "cc_num", type: { scalar: ScalarType.INT64 } },
      { name: "merchant_id", type: { scalar: ScalarType.INT64 } },
      { name: "amount", type: { scalar: ScalarType.DOUBLE } },
      { name: "category", type: { scalar: ScalarType.STRING } },
      { name: "datetime", type: { scalar: ScalarType.TIMESTAMP } },
      { name: "is_fraud", type: { scalar: ScalarType.BOOL } },
    ],
    primaryKey: ["tid"],
    eventTime: "datetime",
    tags: ["fraud", "pii"],
    ...overrides,
  });
}

/** Card aggregates: online, keyed by card number. */
export function cardAggregatesGroup(project: string, overrides: GroupInit = {}): FeatureGroup {
  return create(FeatureGroupSchema, {
    project,
    name: "card_aggregates",
    version: 1,
    description: "windowed counts and sums per card",
    columns: [
      { name: "cc_num", type: { scalar: ScalarType.INT64 } },
      { name: "count_10m", type: { scalar: ScalarType.INT64 } },
      { name: "sum_10m", type: { scalar: ScalarType.DOUBLE } },
      { name: "prev_lat", type: { scalar: ScalarType.DOUBLE } },
      { name: "prev_lon", type: { scalar: ScalarType.DOUBLE } },
      { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
    ],
    primaryKey: ["cc_num"],
    eventTime: "event_time",
    onlineEnabled: true,
    ...overrides,
  });
}
