import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { openServiceDatabase, type ServiceDatabase } from "@granary/postgres";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, waitFor, type TestDatabase } from "@granary/testing";
import { reconcileModelRecords } from "./reconcile-model-records.js";
import { REGISTRY_MIGRATIONS, REGISTRY_SCHEMA } from "./store/migrations.js";
import { failure } from "./testing/failure.js";
import type { MemoryModelRecords } from "./testing/memory-model-records.js";
import { startTestRegistry, type TestRegistry } from "./testing/start-test-registry.js";

// Issue 13: the registry records its models in the metadata service (here in memory), so
// DeleteProject refuses a project that still has models.
let db: TestDatabase;
let reg: TestRegistry;
let records: MemoryModelRecords;
const P = "records";

beforeAll(async () => {
  db = await createTestDatabase("reg_model_records");
  reg = await startTestRegistry(db.url);
  records = reg.records!;
});
afterAll(async () => {
  await reg.stop();
  await db.drop();
});

describe("model records", () => {
  it("are written when a model is created, by CreateModel or by its first version, and forgotten when it is deleted", async () => {
    const { model } = await reg.client.createModel({ project: P, name: "churn" });
    expect(records.byName.get(`${P}/churn`)).toMatch(/^\d+$/);
    await reg.client.createModel({ project: P, name: "churn" }); // the same again: one record still
    await reg.client.createModelVersion({ modelVersion: { project: P, model: "fraud" } });
    expect(records.byName.has(`${P}/fraud`)).toBe(true);

    await reg.client.deleteModel({ project: P, name: "churn", etag: model!.etag });
    expect(records.byName.has(`${P}/churn`)).toBe(false);
  });

  it("name the incarnation: a model deleted and made again is recorded with its new id", async () => {
    await reg.client.createModel({ project: P, name: "again" });
    const first = records.byName.get(`${P}/again`);
    await reg.client.deleteModel({ project: P, name: "again" });
    await reg.client.createModel({ project: P, name: "again" });
    const second = records.byName.get(`${P}/again`);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    // A late forget of the first incarnation leaves the second's record.
    await records.forget({ project: P, model: "again", registryId: first! });
    expect(records.byName.get(`${P}/again`)).toBe(second);
  });

  it("must be written for a model to be created: a project the metadata service lacks is FAILED_PRECONDITION, and nothing is created", async () => {
    records.missingProjects.add("gone");
    try {
      for (const call of [
        reg.client.createModel({ project: "gone", name: "m" }),
        reg.client.createModelVersion({ modelVersion: { project: "gone", model: "m" } }),
      ]) {
        const err = await failure(call);
        expect(Code[err.code]).toBe("FailedPrecondition");
        expect(err.rawMessage).toMatch(/project "gone" does not exist in the metadata service/);
      }
      expect(Code[(await failure(reg.client.getModel({ project: "gone", name: "m" }))).code]).toBe("NotFound");
    } finally {
      records.missingProjects.delete("gone");
    }
  });

  it("are reconciled at start: records without a model are forgotten, models without a record are recorded", async () => {
    const fraudId = records.byName.get(`${P}/fraud`)!;
    // What a crash leaves: a record whose model never committed (or whose deletion did), and a
    // model made before records existed.
    records.byName.set(`${P}/ghost`, "424242");
    records.byName.delete(`${P}/fraud`);
    await reg.restart();
    await waitFor(() => !records.byName.has(`${P}/ghost`) && records.byName.get(`${P}/fraud`) === fraudId, {
      what: "the records reconciled",
      timeoutMs: 15_000,
    });
    expect([...records.byName.keys()].sort()).toEqual([`${P}/again`, `${P}/fraud`]);
  });

  it("are not reconciled away while a create is between its record and its commit", async () => {
    const logger = createLogger({ level: "silent", service: "reconcile-test" });
    const database: ServiceDatabase = await openServiceDatabase({
      databaseUrl: db.url,
      embeddedDataDir: "",
      poolSize: 2,
      schema: REGISTRY_SCHEMA,
      migrations: REGISTRY_MIGRATIONS,
      logger,
    });
    try {
      let release!: () => void;
      records.hold = new Promise((r) => (release = r));
      const creating = reg.client.createModel({ project: P, name: "racing" });
      await waitFor(() => records.byName.has(`${P}/racing`), { what: "the create to record its model" });
      // The record exists, the model row does not (yet): a reconciliation now must wait for the commit.
      let reconciled = false;
      const reconciling = reconcileModelRecords({ pool: database.pool, records, logger }).then((r) => {
        reconciled = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(reconciled).toBe(false);
      records.hold = undefined;
      release();
      const { model } = await creating;
      expect(await reconciling).toEqual({ recorded: 0, forgotten: 0, orphaned: 0 });
      expect(records.byName.has(`${P}/racing`)).toBe(true);
      await reg.client.deleteModel({ project: P, name: "racing", etag: model!.etag });
    } finally {
      records.hold = undefined;
      await database.close();
    }
  });
});
