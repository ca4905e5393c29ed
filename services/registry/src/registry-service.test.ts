import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { openServiceDatabase, translatePgError, type ServiceDatabase } from "@granary/postgres";
import { LineageNodeKind, MetadataService, Role } from "@granary/proto/metadata";
import { RegistryService } from "@granary/proto/registry";
import { createInProcessClient, translateHandlerErrors } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, type TestDatabase } from "@granary/testing";
import { createRegistryHandlers } from "./registry-service.js";
import { createFsBlobStore } from "./store/fs-blob-store.js";
import { REGISTRY_MIGRATIONS, REGISTRY_SCHEMA } from "./store/migrations.js";
import { download, sha256, upload } from "./testing/artifact-io.js";
import { createMetadataLineage } from "./upstream/metadata-lineage.js";
import { createMetadataModelRecords } from "./upstream/metadata-model-records.js";

// The registry's handlers in-process (no port), on a real PostgreSQL, with the metadata service
// faked behind its own in-process client: the upstream adapters (lineage, model records) and their
// error mapping run as in production; the fake records what it was asked.
const P = "fraud";
const KEYS = {
  tok_scientist: { user: "sam", scopes: [{ project: P, role: Role.DATA_SCIENTIST }] },
  tok_viewer: { user: "vera", scopes: [{ project: P, role: Role.VIEWER }] },
};

/** What the metadata service knows and was told; `down` makes every call UNAVAILABLE. */
const md = {
  projects: new Set([P]),
  views: new Set(["churn_view/1"]),
  datasets: new Set(["churn_view/1/2"]),
  recorded: new Map<string, string>(),
  edges: [] as string[],
  released: [] as string[],
  down: false,
};

function fakeMetadata(): Client<typeof MetadataService> {
  const up = () => {
    if (md.down) throw new ConnectError("connection refused", Code.Unavailable);
  };
  const project = (name: string) => {
    up();
    if (!md.projects.has(name)) throw new ConnectError(`project "${name}" does not exist`, Code.NotFound);
  };
  return createInProcessClient(MetadataService, {
    getFeatureView(req) {
      project(req.project);
      if (!md.views.has(`${req.name}/${req.version}`)) throw new ConnectError("no such view", Code.NotFound);
      return { featureView: { project: req.project, name: req.name, version: req.version } };
    },
    getTrainingDataset(req) {
      project(req.project);
      if (!md.datasets.has(`${req.featureView?.name}/${req.featureView?.version}/${req.version}`)) throw new ConnectError("no such dataset", Code.NotFound);
      return { trainingDataset: { project: req.project, featureView: req.featureView, version: req.version } };
    },
    createLineageEdge(req) {
      project(req.project);
      const { from, to } = req.edge!;
      md.edges.push(
        `${LineageNodeKind[from!.kind]} ${from!.name}/${from!.version}/${from!.datasetVersion} → ${LineageNodeKind[to!.kind]} ${to!.name}/${to!.version}`,
      );
      return { edge: req.edge };
    },
    releaseModelVersion(req) {
      project(req.project);
      md.released.push(`${req.model}/${req.version}`);
      return {};
    },
    recordModel(req) {
      project(req.project);
      md.recorded.set(`${req.project}/${req.model}`, req.registryId);
      return {};
    },
    forgetModel(req) {
      project(req.project);
      if (md.recorded.get(`${req.project}/${req.model}`) === req.registryId) md.recorded.delete(`${req.project}/${req.model}`);
      return {};
    },
  });
}

let db: TestDatabase;
let database: ServiceDatabase;
const dir = mkdtempSync(join(tmpdir(), "granary-registry-handlers-"));
let registry: (apiKey: string) => Client<typeof RegistryService>;

beforeAll(async () => {
  db = await createTestDatabase("reg_inproc");
  const logger = createLogger({ level: "silent", service: "registry-test" });
  database = await openServiceDatabase({
    databaseUrl: db.url,
    embeddedDataDir: join(dir, "postgres"),
    schema: REGISTRY_SCHEMA,
    migrations: REGISTRY_MIGRATIONS,
    logger,
  });
  const metadata = fakeMetadata();
  const handlers = createRegistryHandlers({
    pool: database.pool,
    blobs: createFsBlobStore(join(dir, "blobs")),
    lineage: createMetadataLineage(metadata),
    records: createMetadataModelRecords(metadata),
    maxArtifactBytes: 1024 * 1024,
    logger,
  });
  // As server.ts wires them, PostgreSQL's errors translated (without the outage monitor).
  const impl = translateHandlerErrors(handlers, translatePgError);
  registry = (apiKey) => createInProcessClient(RegistryService, impl, { keys: KEYS, apiKey });
});

afterAll(async () => {
  await database.close();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(call: Promise<unknown>): Promise<[string, string]> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(err)}`);
  return [Code[err.code], err.rawMessage];
}

describe("models and the metadata service's records", () => {
  it("records a new model in metadata, and forgets it when the model is deleted", async () => {
    const sam = registry("tok_scientist");
    const { model } = await sam.createModel({ project: P, name: "churn" });
    expect(md.recorded.get(`${P}/churn`)).toMatch(/^\d+$/);
    expect(model?.name).toBe("churn");
    await sam.deleteModel({ project: P, name: "churn" });
    expect(md.recorded.has(`${P}/churn`)).toBe(false);
  });

  it("creates nothing when metadata refuses the record or cannot be asked", async () => {
    const sam = registry("tok_scientist");
    md.projects.delete(P);
    expect((await failure(sam.createModel({ project: P, name: "orphan" })))[0]).toBe("FailedPrecondition");
    md.projects.add(P);
    md.down = true;
    expect(await failure(sam.createModel({ project: P, name: "orphan" }))).toEqual(["Unavailable", "the metadata service is unavailable; retry later"]);
    md.down = false;
    expect((await failure(sam.getModel({ project: P, name: "orphan" })))[0]).toBe("NotFound");
  });

  it("lets a viewer read but not create", async () => {
    expect((await failure(registry("tok_viewer").createModel({ project: P, name: "churn" })))[0]).toBe("PermissionDenied");
  });
});

describe("versions and lineage", () => {
  it("checks what a version was trained on, records the edge and releases it on delete", async () => {
    const sam = registry("tok_scientist");
    const trainedOn = { project: P, model: "churn", featureView: { name: "churn_view", version: 1 }, trainingDatasetVersion: 2 };
    const { modelVersion } = await sam.createModelVersion({ modelVersion: trainedOn });
    expect(md.edges).toEqual([`TRAINING_DATASET churn_view/1/2 → MODEL_VERSION churn/${modelVersion!.version}`]);
    await sam.deleteModelVersion({ project: P, model: "churn", version: modelVersion!.version });
    expect(md.released).toEqual([`churn/${modelVersion!.version}`]);
  });

  it("refuses a version trained on what metadata does not have, naming it", async () => {
    const sam = registry("tok_scientist");
    expect(await failure(sam.createModelVersion({ modelVersion: { project: P, model: "churn", featureView: { name: "nope", version: 1 } } }))).toEqual([
      "FailedPrecondition",
      'feature view "nope" version 1 does not exist in project "fraud"',
    ]);
    expect(
      await failure(
        sam.createModelVersion({ modelVersion: { project: P, model: "churn", featureView: { name: "churn_view", version: 1 }, trainingDatasetVersion: 9 } }),
      ),
    ).toEqual(["FailedPrecondition", 'training dataset version 9 of feature view "churn_view" version 1 does not exist in project "fraud"']);
  });
});

describe("artifacts", () => {
  it("uploads in a client stream and downloads in pre-encoded chunks", async () => {
    const sam = registry("tok_scientist");
    const { modelVersion } = await sam.createModelVersion({ modelVersion: { project: P, model: "files" } });
    const version = modelVersion!.version;
    const content = randomBytes(300_000);
    const artifact = await upload(sam, { project: P, model: "files", version, path: "model.bin" }, content, 64 * 1024);
    expect(artifact.sha256).toBe(sha256(content));
    const got = await download(registry("tok_viewer"), { project: P, model: "files", version, path: "model.bin" });
    expect(got.error).toBeUndefined();
    expect(got.content.equals(content)).toBe(true);
  });

  it("refuses an upload past the size limit", async () => {
    const sam = registry("tok_scientist");
    const { modelVersion } = await sam.createModelVersion({ modelVersion: { project: P, model: "files" } });
    const big = upload(sam, { project: P, model: "files", version: modelVersion!.version, path: "big.bin" }, randomBytes(1024 * 1024 + 1));
    expect((await failure(big))[0]).toBe("ResourceExhausted");
  });
});
