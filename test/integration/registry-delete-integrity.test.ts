import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { LineageDirection, LineageNodeKind, MetadataService, SelectionMode } from "@granary/proto/metadata";
import { RegistryService } from "@granary/proto/registry";
import { ScalarType } from "@granary/proto/types";
import { loadRegistryConfig, startRegistryService } from "@granary/registry";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, testKeys, type TestDatabase } from "@granary/testing";

const keys = testKeys();
const P = "fraud";
// Issue 13: deleting across services keeps integrity.
const dataDir = mkdtempSync(join(tmpdir(), "granary-registry-integrity-"));
const logger = createLogger({ level: process.env.GRANARY_TEST_LOG_LEVEL ?? "silent", service: "registry-integrity-test" });
let db: TestDatabase;
let metadata: RunningService;
let registry: RunningService;
let md: Client<typeof MetadataService>;
let asService: Client<typeof MetadataService>;
let reg: Client<typeof RegistryService>;
const view = { name: "fraud_view", version: 1 };

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  if (err === undefined) throw new Error("expected the call to fail");
  return ConnectError.from(err);
}

beforeAll(async () => {
  db = await createTestDatabase("reg_integrity");
  metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: join(dataDir, "metadata"), DATABASE_URL: db.url, GRANARY_SHUTDOWN_GRACE_MS: "1000" }),
    logger,
  );
  registry = await startRegistryService(
    loadRegistryConfig({ ...keys.env, GRANARY_REGISTRY_PORT: "0", GRANARY_DATA_DIR: join(dataDir, "registry"), DATABASE_URL: db.url, GRANARY_METADATA_ADDRESS: metadata.address, GRANARY_SHUTDOWN_GRACE_MS: "1000" }),
    logger,
  );
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  asService = createServiceClient(MetadataService, metadata.address, { apiKey: keys.serviceKey });
  reg = createServiceClient(RegistryService, registry.address, { apiKey: keys.adminKey });
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P, name: "transactions", version: 1, primaryKey: ["tid"], eventTime: "ts",
      columns: [{ name: "tid", type: { scalar: ScalarType.STRING } }, { name: "is_fraud", type: { scalar: ScalarType.BOOL } }, { name: "ts", type: { scalar: ScalarType.TIMESTAMP } }],
    },
  });
  await md.createFeatureView({ featureView: { project: P, ...view, query: { featureGroup: { name: "transactions", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["is_fraud"] } }, labels: ["is_fraud"] } });
  await asService.createTrainingDataset({ trainingDataset: { project: P, featureView: view } });
  await asService.createTrainingDataset({ trainingDataset: { project: P, featureView: view } });
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await metadata?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("deleting model versions", () => {
  it("releases the lineage edge that kept the version's training dataset from being deleted", async () => {
    await reg.createModelVersion({ modelVersion: { project: P, model: "fraud_classifier", featureView: view, trainingDatasetVersion: 1 } });
    await reg.createModelVersion({ modelVersion: { project: P, model: "fraud_classifier", featureView: view, trainingDatasetVersion: 2 } });
    expect(Code[(await failure(md.deleteTrainingDataset({ project: P, featureView: view, version: 1 }))).code]).toBe("FailedPrecondition");

    await reg.deleteModelVersion({ project: P, model: "fraud_classifier", version: 1 });
    const up = await md.getLineage({ project: P, node: { kind: LineageNodeKind.MODEL_VERSION, name: "fraud_classifier", version: 1 }, direction: LineageDirection.UPSTREAM });
    expect(up.edges).toEqual([]);
    await md.deleteTrainingDataset({ project: P, featureView: view, version: 1 });

    // The other version's edge stays, and still protects its dataset.
    expect(Code[(await failure(md.deleteTrainingDataset({ project: P, featureView: view, version: 2 }))).code]).toBe("FailedPrecondition");
    await reg.deleteModelVersion({ project: P, model: "fraud_classifier", version: 2 });
    await md.deleteTrainingDataset({ project: P, featureView: view, version: 2 });
  });

  it("are refused for a caller that is not a service", async () => {
    expect(Code[(await failure(md.releaseModelVersion({ project: P, model: "fraud_classifier", version: 1 }))).code]).toBe("PermissionDenied");
  });
});
