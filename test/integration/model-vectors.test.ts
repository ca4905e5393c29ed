import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { MetadataService, SelectionMode } from "@granary/proto/metadata";
import { OnlineService } from "@granary/proto/online";
import { RegistryService } from "@granary/proto/registry";
import { ScalarType, type ColumnData } from "@granary/proto/types";
import { loadRegistryConfig, startRegistryService } from "@granary/registry";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase } from "@granary/testing";

// Upgrade and rollback are moving an alias: the online service serves the feature-view version the
// aliased model version was trained on.
const keys = testKeys();
const dir = scratchDir("model-vectors");
let db: TestDatabase;
const running: RunningService[] = [];
let md: Client<typeof MetadataService>;
let reg: Client<typeof RegistryService>;
let on: Client<typeof OnlineService>;
const P = "churn";
const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const f64 = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as ColumnData;

beforeAll(async () => {
  db = await createTestDatabase("model_vectors");
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
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  reg = createServiceClient(RegistryService, registry.address, { apiKey: keys.adminKey });
  on = createServiceClient(OnlineService, online.address, { apiKey: keys.adminKey });
  await waitForServing(online.address, 10_000);

  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "customers",
      version: 1,
      columns: [
        { name: "id", type: { scalar: ScalarType.INT64 } },
        { name: "tenure", type: { scalar: ScalarType.DOUBLE } },
        { name: "charges", type: { scalar: ScalarType.DOUBLE } },
      ],
      primaryKey: ["id"],
      onlineEnabled: true,
    },
  });
  // Version 1 of the view has one feature, version 2 two.
  for (const [version, columns] of [
    [1, ["tenure"]],
    [2, ["tenure", "charges"]],
  ] as const) {
    await md.createFeatureView({
      featureView: {
        project: P,
        name: "churn",
        version,
        query: { featureGroup: { name: "customers", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: [...columns] } },
      },
    });
  }
  for (const version of [1, 2]) {
    const { modelVersion } = await reg.createModelVersion({
      modelVersion: { project: P, model: "churn_model", featureView: { name: "churn", version }, metrics: { auc: 0.7 + version / 10 } },
    });
    await reg.finalizeModelVersion({ project: P, model: "churn_model", version: modelVersion!.version });
  }
  await reg.setAlias({ project: P, model: "churn_model", alias: "production", version: 1 });
  await on.writeRows({
    project: P,
    featureGroup: { name: "customers", version: 1 },
    rows: {
      case: "columns",
      value: {
        rowCount: 1,
        columns: [
          { name: "id", data: i64([7n]) },
          { name: "tenure", data: f64([12]) },
          { name: "charges", data: f64([70.5]) },
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

const vectorsFor = (selector: { case: "alias"; value: string } | { case: "version"; value: number }) =>
  on.getModelFeatureVectors({
    project: P,
    model: "churn_model",
    modelVersion: selector,
    entities: { rowCount: 1, servingKeys: [{ name: "id", data: i64([7n]) }] },
  });

describe("GetModelFeatureVectors", () => {
  it("serves the feature-view version of the model version an alias points to, and follows the alias when it moves", async () => {
    const before = await vectorsFor({ case: "alias", value: "production" });
    expect(before.modelVersion).toBe(1);
    expect(before.featureView?.version).toBe(1);
    expect(before.vectors?.columns.map((c) => c.name)).toEqual(["tenure"]);

    await reg.setAlias({ project: P, model: "churn_model", alias: "production", version: 2 });
    const after = await waitFor(
      async () => {
        const res = await vectorsFor({ case: "alias", value: "production" });
        return res.modelVersion === 2 ? res : undefined;
      },
      { timeoutMs: 3000, what: "alias move to reach online" },
    );
    expect(after!.featureView?.version).toBe(2);
    expect(after!.vectors?.columns.map((c) => c.name)).toEqual(["tenure", "charges"]);
    expect((after!.vectors?.columns[1]?.values?.values.value as { values: number[] }).values).toEqual([70.5]);

    // Rollback is the same move.
    await reg.setAlias({ project: P, model: "churn_model", alias: "production", version: 1 });
    await waitFor(async () => (await vectorsFor({ case: "alias", value: "production" })).featureView?.version === 1, { timeoutMs: 3000, what: "rollback" });
  });

  it("serves a version by number, and says NOT_FOUND for an unknown alias", async () => {
    const byVersion = await vectorsFor({ case: "version", value: 2 });
    expect(byVersion.featureView?.version).toBe(2);
    const err = await vectorsFor({ case: "alias", value: "staging" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err && Code[err.code]).toBe("NotFound");
  });
});
