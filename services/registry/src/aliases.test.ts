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
  db = await createTestDatabase("reg_aliases");
  reg = await startTestRegistry(db.url);
});
afterAll(async () => {
  await reg.stop();
  await db.drop();
});

async function readyVersions(model: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const { modelVersion } = await reg.client.createModelVersion({ modelVersion: { project: P, model } });
    await reg.client.finalizeModelVersion({ project: P, model, version: modelVersion!.version });
    out.push(modelVersion!.version);
  }
  return out;
}

describe("aliases", () => {
  it("points an alias at a version, moves it, reads by it, and deletes it", async () => {
    const [v1, v2] = await readyVersions("scorer", 2);
    const set = await reg.client.setAlias({ project: P, model: "scorer", alias: "production", version: v1! });
    expect(set.model?.aliases).toEqual({ production: v1 });
    await reg.client.setAlias({ project: P, model: "scorer", alias: "staging", version: v2! });
    const byAlias = await reg.client.getModelVersion({ project: P, model: "scorer", selector: { case: "alias", value: "production" } });
    expect(byAlias.modelVersion).toMatchObject({ version: v1, aliases: ["production"] });
    const before = byAlias.modelVersion!.etag;

    const moved = await reg.client.setAlias({ project: P, model: "scorer", alias: "production", version: v2! });
    expect(moved.model?.aliases).toEqual({ production: v2, staging: v2 });
    const old = await reg.client.getModelVersion({ project: P, model: "scorer", selector: { case: "version", value: v1! } });
    expect(old.modelVersion?.aliases).toEqual([]);
    expect(old.modelVersion?.etag).not.toBe(before);
    const current = await reg.client.getModelVersion({ project: P, model: "scorer", selector: { case: "version", value: v2! } });
    expect(current.modelVersion?.aliases).toEqual(["production", "staging"]);

    const deleted = await reg.client.deleteAlias({ project: P, model: "scorer", alias: "staging" });
    expect(deleted.model?.aliases).toEqual({ production: v2 });
    expect(Code[(await failure(reg.client.deleteAlias({ project: P, model: "scorer", alias: "staging" }))).code]).toBe("NotFound");
    const gone = await failure(reg.client.getModelVersion({ project: P, model: "scorer", selector: { case: "alias", value: "staging" } }));
    expect(Code[gone.code]).toBe("NotFound");
    expect(gone.rawMessage).toContain('no alias "staging"');
  });

  it("refuses an alias to a missing or UPLOADING version, and a name that is no identifier", async () => {
    await readyVersions("strict", 1);
    const missing = await failure(reg.client.setAlias({ project: P, model: "strict", alias: "production", version: 7 }));
    expect(Code[missing.code]).toBe("FailedPrecondition");
    await reg.client.createModelVersion({ modelVersion: { project: P, model: "strict" } });
    const uploading = await failure(reg.client.setAlias({ project: P, model: "strict", alias: "production", version: 2 }));
    expect(Code[uploading.code]).toBe("FailedPrecondition");
    expect(uploading.rawMessage).toContain("UPLOADING");
    const badName = await failure(reg.client.setAlias({ project: P, model: "strict", alias: "Prod uction", version: 1 }));
    expect(Code[badName.code]).toBe("InvalidArgument");
    const noModel = await failure(reg.client.setAlias({ project: P, model: "nobody", alias: "production", version: 1 }));
    expect(Code[noModel.code]).toBe("NotFound");
    expect((await reg.client.getModel({ project: P, name: "strict" })).model?.aliases).toEqual({});
  });

  it("ends ten clients moving one alias at once with one consistent alias", async () => {
    const versions = await readyVersions("contended", 10);
    const clients = versions.map(() => createServiceClient(RegistryService, reg.address, { apiKey: reg.apiKey }));
    await reg.client.setAlias({ project: P, model: "contended", alias: "production", version: versions[0]! });
    for (let round = 0; round < 3; round++) {
      // Readers during the moves always find the alias at some version, never nowhere.
      const reads = Promise.all(
        Array.from({ length: 20 }, () => reg.client.getModelVersion({ project: P, model: "contended", selector: { case: "alias", value: "production" } })),
      );
      const results = await Promise.all(versions.map((version, i) => clients[i]!.setAlias({ project: P, model: "contended", alias: "production", version })));
      for (const read of await reads) expect(versions).toContain(read.modelVersion?.version);
      // Every answer shows the alias at the version that client asked for: each move is whole.
      results.forEach((r, i) => expect(r.model?.aliases.production).toBe(versions[i]));
      const { model } = await reg.client.getModel({ project: P, name: "contended" });
      const final = model!.aliases.production!;
      expect(versions).toContain(final);
      const byAlias = await reg.client.getModelVersion({ project: P, model: "contended", selector: { case: "alias", value: "production" } });
      expect(byAlias.modelVersion?.version).toBe(final);
      const listed = await reg.client.listModelVersions({ project: P, model: "contended" });
      expect(listed.modelVersions.filter((v) => v.aliases.includes("production")).map((v) => v.version)).toEqual([final]);
    }
  });
});
