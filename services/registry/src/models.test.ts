import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { RegistryService } from "@granary/proto/registry";
import { createTestDatabase, type TestDatabase } from "@granary/testing";
import { failure } from "./testing/failure.js";
import { startTestRegistry, type TestRegistry } from "./testing/start-test-registry.js";

let db: TestDatabase;
let reg: TestRegistry;
const P = "fraud";

beforeAll(async () => {
  db = await createTestDatabase("reg_models");
  reg = await startTestRegistry(db.url);
});
afterAll(async () => {
  await reg.stop();
  await db.drop();
});

describe("authentication", () => {
  it("refuses a call without a key, and a user's key it cannot check while metadata is unreachable", async () => {
    const anonymous = await failure(createServiceClient(RegistryService, reg.address).getModel({ project: P, name: "fraud_detector" }));
    expect(Code[anonymous.code]).toBe("Unauthenticated");
    // The registry alone: no metadata service resolves API keys, so it cannot say yes or no.
    const admin = createServiceClient(RegistryService, reg.address, { apiKey: reg.keys.adminKey });
    expect(Code[(await failure(admin.getModel({ project: P, name: "fraud_detector" }))).code]).toBe("Unavailable");
  });
});

describe("models", () => {
  it("creates a model, returns it again for an identical create, and refuses a different one", async () => {
    const { model } = await reg.client.createModel({ project: P, name: "fraud_detector", description: "card fraud", tags: ["fraud"] });
    expect(model).toMatchObject({ project: P, name: "fraud_detector", description: "card fraud", tags: ["fraud"], latestVersion: 0, aliases: {} });
    expect(model?.etag).not.toBe("");
    const again = await reg.client.createModel({ project: P, name: "fraud_detector", description: "card fraud", tags: ["fraud"] });
    expect(again.model?.etag).toBe(model?.etag);
    const other = await failure(reg.client.createModel({ project: P, name: "fraud_detector", description: "something else" }));
    expect(Code[other.code]).toBe("AlreadyExists");
    expect(other.rawMessage).toContain("UpdateModel");
    const got = await reg.client.getModel({ project: P, name: "fraud_detector" });
    expect(got.model?.createTime).toEqual(model?.createTime);
  });

  it("answers NOT_FOUND for an unknown model and INVALID_ARGUMENT for a bad name", async () => {
    expect(Code[(await failure(reg.client.getModel({ project: P, name: "nope" }))).code]).toBe("NotFound");
    const bad = await failure(reg.client.createModel({ project: P, name: "Fraud Detector" }));
    expect(Code[bad.code]).toBe("InvalidArgument");
    expect(bad.rawMessage).toContain("identifier");
    const badTag = await failure(reg.client.createModel({ project: P, name: "tagged", tags: [""] }));
    expect(badTag.rawMessage).toMatch(/^tags\[0\]/);
  });

  it("updates description and tags with the current etag only", async () => {
    const { model } = await reg.client.createModel({ project: P, name: "churn" });
    const updated = await reg.client.updateModel({
      model: { ...model!, description: "who leaves", tags: ["retention"] },
      updateMask: { paths: ["description", "tags"] },
    });
    expect(updated.model).toMatchObject({ description: "who leaves", tags: ["retention"] });
    expect(updated.model?.etag).not.toBe(model?.etag);
    const stale = await failure(reg.client.updateModel({ model: { ...model!, description: "late" }, updateMask: { paths: ["description"] } }));
    expect(Code[stale.code]).toBe("Aborted");
    const onlyTags = await reg.client.updateModel({ model: { ...updated.model!, description: "ignored", tags: [] }, updateMask: { paths: ["tags"] } });
    expect(onlyTags.model).toMatchObject({ description: "who leaves", tags: [] });
    const aliases = await failure(reg.client.updateModel({ model: { ...onlyTags.model! }, updateMask: { paths: ["aliases"] } }));
    expect(Code[aliases.code]).toBe("InvalidArgument");
    expect(aliases.rawMessage).toContain("SetAlias");
  });

  it("lets exactly one of ten concurrent updates with the same etag win", async () => {
    const { model } = await reg.client.createModel({ project: P, name: "contended" });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        reg.client.updateModel({ model: { ...model!, description: `writer ${i}` }, updateMask: { paths: ["description"] } }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(Code[(await failure(Promise.reject(r.reason))).code]).toBe("Aborted");
  });

  it("deletes a model only once it has no versions, and with the current etag", async () => {
    await reg.client.createModelVersion({ modelVersion: { project: P, model: "doomed" } });
    const busy = await failure(reg.client.deleteModel({ project: P, name: "doomed" }));
    expect(Code[busy.code]).toBe("FailedPrecondition");
    expect(busy.rawMessage).toContain("still has versions (1)");
    await reg.client.deleteModelVersion({ project: P, model: "doomed", version: 1 });
    const stale = await failure(reg.client.deleteModel({ project: P, name: "doomed", etag: "999" }));
    expect(Code[stale.code]).toBe("Aborted");
    await reg.client.deleteModel({ project: P, name: "doomed" });
    expect(Code[(await failure(reg.client.getModel({ project: P, name: "doomed" }))).code]).toBe("NotFound");
  });

  it("lists every model exactly once for any page size, filtered by tag, within one project", async () => {
    const names = Array.from({ length: 23 }, (_, i) => `m_${String(i).padStart(2, "0")}`);
    for (const name of names) await reg.client.createModel({ project: "listing", name, tags: name.endsWith("3") ? ["three"] : [] });
    await reg.client.createModel({ project: "elsewhere", name: "m_99" });
    for (const pageSize of [1, 4, 22, 23, 0]) {
      const seen: string[] = [];
      let pageToken = "";
      do {
        const page = await reg.client.listModels({ project: "listing", pageSize, pageToken });
        if (pageSize > 0) expect(page.models.length).toBeLessThanOrEqual(pageSize);
        seen.push(...page.models.map((m) => m.name));
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      expect(seen).toEqual(names);
    }
    const tagged = await reg.client.listModels({ project: "listing", tag: "three" });
    expect(tagged.models.map((m) => m.name)).toEqual(["m_03", "m_13"]);
    const page = await reg.client.listModels({ project: "listing", pageSize: 2 });
    const mixed = await failure(reg.client.listModels({ project: "listing", pageSize: 2, tag: "three", pageToken: page.nextPageToken }));
    expect(Code[mixed.code]).toBe("InvalidArgument");
    const forged = await failure(
      reg.client.listModels({ project: "listing", pageSize: 2, pageToken: Buffer.from(JSON.stringify({ q: "x", k: ["m_10"] })).toString("base64url") }),
    );
    expect(Code[forged.code]).toBe("InvalidArgument");
    expect(forged.rawMessage).toBe("invalid page token");
    const nul = await failure(reg.client.listModels({ project: "listing", tag: "th\0ree" }));
    expect(Code[nul.code]).toBe("InvalidArgument");
  });
});
