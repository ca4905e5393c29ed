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
import { createTestDatabase, testKeys, waitFor, type TestDatabase } from "@granary/testing";

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
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) throw new Error("expected the call to fail");
  return ConnectError.from(err);
}

/** Starts (or starts again, as after a crash) the registry on the same database and data dir. */
async function startRegistry(): Promise<void> {
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
  reg = createServiceClient(RegistryService, registry.address, { apiKey: keys.adminKey });
}

async function recorded(project: string): Promise<Map<string, string>> {
  const { models } = await asService.listRecordedModels({ pageSize: 1000 });
  return new Map(models.filter((m) => m.project === project).map((m) => [m.model, m.registryId]));
}

beforeAll(async () => {
  db = await createTestDatabase("reg_integrity");
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
  await startRegistry();
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  asService = createServiceClient(MetadataService, metadata.address, { apiKey: keys.serviceKey });
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "transactions",
      version: 1,
      primaryKey: ["tid"],
      eventTime: "ts",
      columns: [
        { name: "tid", type: { scalar: ScalarType.STRING } },
        { name: "is_fraud", type: { scalar: ScalarType.BOOL } },
        { name: "ts", type: { scalar: ScalarType.TIMESTAMP } },
      ],
    },
  });
  await md.createFeatureView({
    featureView: {
      project: P,
      ...view,
      query: { featureGroup: { name: "transactions", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["is_fraud"] } },
      labels: ["is_fraud"],
    },
  });
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
    const up = await md.getLineage({
      project: P,
      node: { kind: LineageNodeKind.MODEL_VERSION, name: "fraud_classifier", version: 1 },
      direction: LineageDirection.UPSTREAM,
    });
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

describe("deleting projects", () => {
  // Refused, not cascaded: a project's models (and their artifacts) are deleted in the registry.
  it("is refused while the registry has models in the project, naming how many and which, and allowed once they are deleted", async () => {
    const Q = "models_only";
    await md.createProject({ name: Q });
    await reg.createModel({ project: Q, name: "churn" });
    await reg.createModelVersion({ modelVersion: { project: Q, model: "fraud" } }); // the model made on first use

    const refused = await failure(md.deleteProject({ name: Q }));
    expect(Code[refused.code]).toBe("FailedPrecondition");
    expect(refused.rawMessage).toBe('project "models_only" still has 2 models in the registry (churn, fraud); delete them first');

    await reg.deleteModelVersion({ project: Q, model: "fraud", version: 1 });
    await reg.deleteModel({ project: Q, name: "fraud" });
    expect((await failure(md.deleteProject({ name: Q }))).rawMessage).toBe(
      'project "models_only" still has 1 model in the registry (churn); delete them first',
    );
    await reg.deleteModel({ project: Q, name: "churn" });
    await md.deleteProject({ name: Q });
    expect(Code[(await failure(md.getProject({ name: Q }))).code]).toBe("NotFound");
  });

  it("leaves no model behind: a model cannot be made in a project the metadata service does not have", async () => {
    for (const call of [
      reg.createModel({ project: "never_made", name: "m" }),
      reg.createModelVersion({ modelVersion: { project: "never_made", model: "m" } }),
    ]) {
      const err = await failure(call);
      expect(Code[err.code]).toBe("FailedPrecondition");
      expect(err.rawMessage).toMatch(/project "never_made" does not exist in the metadata service/);
    }
    expect(Code[(await failure(reg.getModel({ project: "never_made", name: "m" }))).code]).toBe("NotFound");
  });

  it("is not blocked forever by what a crash leaves: the registry reconciles the records when it starts", async () => {
    const Q = "crashes";
    await md.createProject({ name: Q });
    await reg.createModel({ project: Q, name: "kept" });
    const keptId = (await recorded(Q)).get("kept")!;
    expect(keptId).toBeDefined();
    // A crash after recording a model whose row then never committed (or after a deletion
    // committed, before ForgetModel); and a record lost, as for models made before records existed.
    await asService.recordModel({ project: Q, model: "ghost", registryId: "999999999" });
    await asService.forgetModel({ project: Q, model: "kept", registryId: keptId });
    expect((await failure(md.deleteProject({ name: Q }))).rawMessage).toBe('project "crashes" still has 1 model in the registry (ghost); delete them first');

    await registry.stop();
    await startRegistry();
    await waitFor(
      async () => {
        const now = await recorded(Q);
        return now.size === 1 && now.get("kept") === keptId;
      },
      { timeoutMs: 20_000, what: "the registry to reconcile the records" },
    );
    expect((await failure(md.deleteProject({ name: Q }))).rawMessage).toBe('project "crashes" still has 1 model in the registry (kept); delete them first');

    await reg.deleteModel({ project: Q, name: "kept" });
    await md.deleteProject({ name: Q });
  });

  it("records are service-only", async () => {
    for (const call of [
      md.recordModel({ project: P, model: "m", registryId: "1" }),
      md.forgetModel({ project: P, model: "m", registryId: "1" }),
      md.listRecordedModels({}),
    ]) {
      expect(Code[(await failure(call)).code]).toBe("PermissionDenied");
    }
  });
});
