import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { ColumnStatisticsSchema, CommitWatermarkSchema, MetadataService, SelectionMode, TransformationFunction } from "@granary/proto/metadata";
import { OnlineService } from "@granary/proto/online";
import { RegistryService } from "@granary/proto/registry";
import { ScalarType, type ColumnData } from "@granary/proto/types";
import { loadRegistryConfig, startRegistryService } from "@granary/registry";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitForServing, type TestDatabase } from "@granary/testing";

// An alias moved while serving was idle is followed by the very next call (issue 14): the model's
// transformations are the new version's, never those of a mapping cached before the move.
const keys = testKeys();
const dir = scratchDir("online-skew-alias");
let db: TestDatabase;
const running: RunningService[] = [];
let reg: Client<typeof RegistryService>;
let on: Client<typeof OnlineService>;
const P = "churn";
const GROUP = { name: "customers", version: 1 };
const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const f64 = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as ColumnData;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  db = await createTestDatabase("online_skew_alias");
  const logger = createLogger({ level: "warn", service: "test" });
  const env = { ...keys.env, GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url };
  const metadata = await startMetadataService(loadMetadataConfig({ ...env, GRANARY_METADATA_PORT: "0" }), logger);
  running.push(metadata);
  const registry = await startRegistryService(loadRegistryConfig({ ...env, GRANARY_REGISTRY_PORT: "0", GRANARY_METADATA_ADDRESS: metadata.address }), logger);
  running.push(registry);
  const online = await startOnlineService(
    loadOnlineConfig({ ...env, GRANARY_ONLINE_PORT: "0", GRANARY_METADATA_ADDRESS: metadata.address, GRANARY_REGISTRY_ADDRESS: registry.address }),
    logger,
  );
  running.push(online);
  const md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  const asService = createServiceClient(MetadataService, metadata.address, { apiKey: keys.serviceKey });
  reg = createServiceClient(RegistryService, registry.address, { apiKey: keys.adminKey });
  on = createServiceClient(OnlineService, online.address, { apiKey: keys.adminKey });
  await waitForServing(online.address, 10_000);

  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      ...GROUP,
      columns: [
        { name: "id", type: { scalar: ScalarType.INT64 } },
        { name: "tenure", type: { scalar: ScalarType.DOUBLE } },
      ],
      primaryKey: ["id"],
      onlineEnabled: true,
    },
  });
  // Two views scale tenure with min-max, fitted on training data of different ranges: version 1 on
  // [0, 100], version 2 on [0, 10]. Model version v is trained on view version v.
  for (const [version, max] of [
    [1, 100],
    [2, 10],
  ] as const) {
    await md.createFeatureView({
      featureView: {
        project: P,
        name: "churn",
        version,
        query: { featureGroup: GROUP, selection: { mode: SelectionMode.INCLUDE, columns: ["tenure"] } },
        transformations: [{ column: "tenure", function: TransformationFunction.MIN_MAX_SCALER }],
      },
    });
    await asService.createTrainingDataset({
      trainingDataset: {
        project: P,
        featureView: { name: "churn", version },
        watermarks: [create(CommitWatermarkSchema, { featureGroup: GROUP, commitId: 1n })],
        statistics: [create(ColumnStatisticsSchema, { column: "tenure", count: 10n, min: 0, max })],
      },
    });
    const { modelVersion } = await reg.createModelVersion({
      modelVersion: { project: P, model: "churn_model", featureView: { name: "churn", version }, trainingDatasetVersion: 1 },
    });
    await reg.finalizeModelVersion({ project: P, model: "churn_model", version: modelVersion!.version });
  }
  await reg.setAlias({ project: P, model: "churn_model", alias: "production", version: 1 });
  await on.writeRows({
    project: P,
    featureGroup: GROUP,
    rows: {
      case: "columns",
      value: {
        rowCount: 1,
        columns: [
          { name: "id", data: i64([7n]) },
          { name: "tenure", data: f64([5]) },
        ],
      },
    },
  });
}, 60_000);

afterAll(async () => {
  for (const s of running.reverse()) await s.stop();
  await db?.drop();
  dir.remove();
}, 30_000);

const production = async () => {
  const res = await on.getModelFeatureVectors({
    project: P,
    model: "churn_model",
    modelVersion: { case: "alias", value: "production" },
    entities: { rowCount: 1, servingKeys: [{ name: "id", data: i64([7n]) }] },
  });
  return {
    modelVersion: res.modelVersion,
    view: res.featureView?.version,
    tenure: (res.vectors?.columns[0]?.values?.values.value as { values: number[] }).values[0],
  };
};

describe("model alias freshness online", () => {
  it("serves the moved alias's version and transformations on the first call after an idle period", async () => {
    expect(await production()).toEqual({ modelVersion: 1, view: 1, tenure: 0.05 });
    await sleep(1200); // idle: longer than the mapping may be served without asking the registry
    await reg.setAlias({ project: P, model: "churn_model", alias: "production", version: 2 });
    expect(await production()).toEqual({ modelVersion: 2, view: 2, tenure: 0.5 });

    // Rollback, the same way.
    await sleep(1200);
    await reg.setAlias({ project: P, model: "churn_model", alias: "production", version: 1 });
    expect(await production()).toEqual({ modelVersion: 1, view: 1, tenure: 0.05 });
  });
});
