import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { createTestDatabase, type TestDatabase } from "@granary/testing";
import { startTestMetadata, type TestMetadata } from "./testing/start-test-metadata.js";

// Issue 13: DeleteProject refuses a project the registry still has models in.
let db: TestDatabase;
let md: TestMetadata;

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) throw new Error("expected the call to fail, but it succeeded");
  return ConnectError.from(err);
}

beforeAll(async () => {
  db = await createTestDatabase("md_recorded_models");
  md = await startTestMetadata(db.url);
}, 60_000);

afterAll(async () => {
  await md?.stop();
  await db?.drop();
}, 30_000);

describe("recorded models", () => {
  it("keep DeleteProject from deleting their project, naming how many and the first few", async () => {
    await md.client.createProject({ name: "churn_team" });
    for (const [model, id] of [
      ["fraud", "1"],
      ["churn", "2"],
    ] as const) {
      await md.serviceClient.recordModel({ project: "churn_team", model, registryId: id });
      await md.serviceClient.recordModel({ project: "churn_team", model, registryId: id }); // idempotent
    }
    const refused = await failure(md.client.deleteProject({ name: "churn_team" }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toBe('project "churn_team" still has 2 models in the registry (churn, fraud); delete them first');

    await md.serviceClient.forgetModel({ project: "churn_team", model: "churn", registryId: "2" });
    await md.serviceClient.forgetModel({ project: "churn_team", model: "churn", registryId: "2" }); // idempotent
    expect((await failure(md.client.deleteProject({ name: "churn_team" }))).rawMessage).toBe(
      'project "churn_team" still has 1 model in the registry (fraud); delete them first',
    );
    await md.serviceClient.forgetModel({ project: "churn_team", model: "fraud", registryId: "1" });
    await md.client.deleteProject({ name: "churn_team" });
    await expect(md.client.getProject({ name: "churn_team" })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("lists a few names and an ellipsis when there are many", async () => {
    await md.client.createProject({ name: "many" });
    for (const model of ["e", "d", "c", "b", "a"]) await md.serviceClient.recordModel({ project: "many", model, registryId: model });
    expect((await failure(md.client.deleteProject({ name: "many" }))).rawMessage).toBe(
      'project "many" still has 5 models in the registry (a, b, c, …); delete them first',
    );
  });

  it("forget only the incarnation named: a model deleted and made again keeps its record", async () => {
    await md.client.createProject({ name: "again" });
    await md.serviceClient.recordModel({ project: "again", model: "m", registryId: "7" });
    await md.serviceClient.recordModel({ project: "again", model: "m", registryId: "8" });
    await md.serviceClient.forgetModel({ project: "again", model: "m", registryId: "7" });
    expect((await failure(md.client.deleteProject({ name: "again" }))).code).toBe(Code.FailedPrecondition);
    await md.serviceClient.forgetModel({ project: "again", model: "m", registryId: "8" });
    await md.client.deleteProject({ name: "again" });
  });

  it("need the project to exist", async () => {
    const err = await failure(md.serviceClient.recordModel({ project: "nowhere", model: "m", registryId: "1" }));
    expect(err.code).toBe(Code.NotFound);
  });

  it("are listed for the registry, page by page", async () => {
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await md.serviceClient.listRecordedModels({ pageSize: 2, pageToken });
      expect(page.models.length).toBeLessThanOrEqual(2);
      seen.push(...page.models.map((m) => `${m.project}/${m.model}@${m.registryId}`));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual(["many/a@a", "many/b@b", "many/c@c", "many/d@d", "many/e@e"]);
  });

  it("are service-only: users, admins included, are refused", async () => {
    for (const call of [
      md.client.recordModel({ project: "many", model: "x", registryId: "1" }),
      md.client.forgetModel({ project: "many", model: "a", registryId: "a" }),
      md.client.listRecordedModels({}),
    ]) {
      expect((await failure(call)).code).toBe(Code.PermissionDenied);
    }
  });
});
