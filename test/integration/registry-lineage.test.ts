import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { LineageDirection, LineageNodeKind, MetadataService, SelectionMode } from "@granary/proto/metadata";
import { RegistryService } from "@granary/proto/registry";
import { ScalarType } from "@granary/proto/types";
import { loadRegistryConfig, startRegistryService } from "@granary/registry";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, testKeys, type TestDatabase } from "@granary/testing";

// The registry checks what a version was trained on against a real metadata service, and records
// the lineage there.
const keys = testKeys();
const P = "fraud";
const dataDir = mkdtempSync(join(tmpdir(), "granary-registry-lineage-"));
const logger = createLogger({ level: process.env.GRANARY_TEST_LOG_LEVEL ?? "silent", service: "registry-lineage-test" });
let db: TestDatabase;
let metadata: RunningService;
let registry: RunningService;
let md: Client<typeof MetadataService>;
let reg: Client<typeof RegistryService>;

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) throw new Error("expected the call to fail");
  return ConnectError.from(err);
}

beforeAll(async () => {
  db = await createTestDatabase("reg_lineage");
  metadata = await startMetadataService(
    loadMetadataConfig({
      ...keys.env,
      GRANARY_METADATA_PORT: "0",
      GRANARY_DATA_DIR: join(dataDir, "metadata"),
      DATABASE_URL: db.url,
      GRANARY_SHUTDOWN_GRACE_MS: "1000",
    }),
    logger,
  );
  registry = await startRegistryService(
    loadRegistryConfig({
      ...keys.env,
      GRANARY_REGISTRY_PORT: "0",
      GRANARY_DATA_DIR: join(dataDir, "registry"),
      DATABASE_URL: db.url,
      GRANARY_METADATA_ADDRESS: metadata.address,
      GRANARY_SHUTDOWN_GRACE_MS: "1000",
    }),
    logger,
  );
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  reg = createServiceClient(RegistryService, registry.address, { apiKey: keys.adminKey });
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "transactions",
      version: 1,
      columns: [
        { name: "tid", type: { scalar: ScalarType.STRING } },
        { name: "amount", type: { scalar: ScalarType.DOUBLE } },
        { name: "is_fraud", type: { scalar: ScalarType.BOOL } },
        { name: "ts", type: { scalar: ScalarType.TIMESTAMP } },
      ],
      primaryKey: ["tid"],
      eventTime: "ts",
    },
  });
  await md.createFeatureView({
    featureView: {
      project: P,
      name: "fraud_view",
      version: 1,
      query: { featureGroup: { name: "transactions", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["amount", "is_fraud"] } },
      labels: ["is_fraud"],
    },
  });
  // Only the offline service records training datasets: forged here with the service key.
  const asService = createServiceClient(MetadataService, metadata.address, { apiKey: keys.serviceKey });
  await asService.createTrainingDataset({ trainingDataset: { project: P, featureView: { name: "fraud_view", version: 1 } } });
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await metadata?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("what a version was trained on", () => {
  it("records training dataset → model version in metadata when a dataset is given", async () => {
    const { modelVersion } = await reg.createModelVersion({
      modelVersion: {
        project: P,
        model: "fraud_classifier",
        featureView: { name: "fraud_view", version: 1 },
        trainingDatasetVersion: 1,
        metrics: { auc: 0.9 },
      },
    });
    expect(modelVersion).toMatchObject({ version: 1, featureView: { name: "fraud_view", version: 1 }, trainingDatasetVersion: 1 });
    const up = await md.getLineage({
      project: P,
      node: { kind: LineageNodeKind.MODEL_VERSION, name: "fraud_classifier", version: 1 },
      direction: LineageDirection.UPSTREAM,
    });
    expect(up.nodes.filter((n) => n.kind === LineageNodeKind.FEATURE_GROUP).map((n) => n.name)).toEqual(["transactions"]);
    expect(up.edges.some((e) => e.from?.kind === LineageNodeKind.TRAINING_DATASET && e.from.datasetVersion === 1 && e.to?.version === 1)).toBe(true);
  });

  it("keeps the feature view of a version without a dataset, recording nothing in metadata", async () => {
    const { modelVersion } = await reg.createModelVersion({
      modelVersion: { project: P, model: "view_only", featureView: { name: "fraud_view", version: 1 } },
    });
    await reg.finalizeModelVersion({ project: P, model: "view_only", version: modelVersion!.version });
    const got = await reg.getModelVersion({ project: P, model: "view_only", selector: { case: "version", value: 1 } });
    expect(got.modelVersion?.featureView).toMatchObject({ name: "fraud_view", version: 1 });
    const up = await md.getLineage({
      project: P,
      node: { kind: LineageNodeKind.MODEL_VERSION, name: "view_only", version: 1 },
      direction: LineageDirection.UPSTREAM,
    });
    expect(up.edges).toEqual([]);
  });

  it.each([
    ["an unknown feature view", { featureView: { name: "no_view", version: 1 } }, /feature view "no_view" version 1 does not exist/],
    ["an unknown view version", { featureView: { name: "fraud_view", version: 2 } }, /feature view "fraud_view" version 2 does not exist/],
    [
      "an unknown training dataset",
      { featureView: { name: "fraud_view", version: 1 }, trainingDatasetVersion: 5 },
      /training dataset version 5 of feature view "fraud_view" version 1 does not exist/,
    ],
    ["a view in an unknown project", { project: "elsewhere", featureView: { name: "fraud_view", version: 1 } }, /does not exist/],
  ])("refuses %s with FAILED_PRECONDITION and creates nothing", async (_what, init, message) => {
    const err = await failure(reg.createModelVersion({ modelVersion: { project: P, model: "untrained", ...init } }));
    expect(Code[err.code]).toBe("FailedPrecondition");
    expect(err.rawMessage).toMatch(message);
    const project = "project" in init ? init.project : P;
    expect(Code[(await failure(reg.getModel({ project, name: "untrained" }))).code]).toBe("NotFound");
  });

  it("numbers versions on after a refused one", async () => {
    await failure(reg.createModelVersion({ modelVersion: { project: P, model: "fraud_classifier", featureView: { name: "fraud_view", version: 9 } } }));
    const next = await reg.createModelVersion({
      modelVersion: { project: P, model: "fraud_classifier", featureView: { name: "fraud_view", version: 1 }, trainingDatasetVersion: 1 },
    });
    expect(next.modelVersion?.version).toBe(2);
  });
});
