import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { FeatureGroupSchema, type FeatureGroup } from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType } from "@granary/proto/types";

/** An online-enabled feature group version 1 with an `event_time` column, as the catalogue would hold it. */
export function onlineGroup(
  id: bigint,
  project: string,
  name: string,
  columns: [string, ScalarType][],
  primaryKey: string[],
  options: { ttlMs?: number; createdBy?: string } = {},
): FeatureGroup {
  return create(FeatureGroupSchema, {
    id,
    project,
    name,
    version: 1,
    columns: columns.map(([n, s]) => ({ name: n, type: create(DataTypeSchema, { scalar: s }) })),
    primaryKey,
    eventTime: "event_time",
    onlineEnabled: true,
    onlineTtl: options.ttlMs === undefined ? undefined : durationFromMs(options.ttlMs),
    createdBy: options.createdBy ?? "",
  });
}

/**
 * The two groups the online tests join: cards (by cc_num, naming an account) and accounts (by
 * account_id), so a view over cards reaches accounts through a nested key.
 */
export function cardGroups(project: string, options: { accountsTtlMs?: number; createdBy?: string } = {}): { cards: FeatureGroup; accounts: FeatureGroup } {
  const cards = onlineGroup(
    1n,
    project,
    "cards",
    [
      ["cc_num", ScalarType.INT64],
      ["account_id", ScalarType.INT64],
      ["avg_amount", ScalarType.DOUBLE],
      ["event_time", ScalarType.TIMESTAMP],
    ],
    ["cc_num"],
    { createdBy: options.createdBy },
  );
  const accounts = onlineGroup(
    2n,
    project,
    "accounts",
    [
      ["account_id", ScalarType.INT64],
      ["balance", ScalarType.DOUBLE],
      ["event_time", ScalarType.TIMESTAMP],
    ],
    ["account_id"],
    { ttlMs: options.accountsTtlMs, createdBy: options.createdBy },
  );
  return { cards, accounts };
}
