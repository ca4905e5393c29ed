import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { ModelVersionStatus } from "@granary/proto/registry";
import { create } from "@bufbuild/protobuf";
import { FeatureViewRefSchema, ScalarType } from "@granary/proto/types";
import { createTestDatabase, type TestDatabase } from "@granary/testing";
import { failure } from "./testing/failure.js";
import { startTestRegistry, type TestRegistry } from "./testing/start-test-registry.js";

let db: TestDatabase;
let reg: TestRegistry;
const P = "fraud";

beforeAll(async () => {
  db = await createTestDatabase("reg_versions");
  reg = await startTestRegistry(db.url);
});
afterAll(async () => {
  await reg.stop();
  await db.drop();
});

async function readyVersion(model: string, init: { metrics?: Record<string, number>; tags?: string[] } = {}) {
  const { modelVersion } = await reg.client.createModelVersion({ modelVersion: { project: P, model, framework: "xgboost", ...init } });
  return (await reg.client.finalizeModelVersion({ project: P, model, version: modelVersion!.version })).modelVersion!;
}

describe("creating versions", () => {
  it("numbers versions per model, creating the model on first use, UPLOADING until finalized", async () => {
    const { modelVersion } = await reg.client.createModelVersion({
      modelVersion: {
        project: P,
        model: "scorer",
        framework: "sklearn",
        description: "gradient boosting",
        metrics: { rmse: 0.41, auc: 0.93 },
        parameters: { max_depth: "6" },
        schema: { inputs: [{ name: "amount", type: { scalar: ScalarType.DOUBLE } }], outputs: [{ name: "score", type: { scalar: ScalarType.FLOAT } }] },
        inputExample: { rowCount: 1, columns: [{ name: "amount", data: { values: { case: "doubles", value: { values: [12.5] } } } }] },
        tags: ["candidate"],
      },
    });
    expect(modelVersion).toMatchObject({
      project: P,
      model: "scorer",
      version: 1,
      status: ModelVersionStatus.UPLOADING,
      metrics: { rmse: 0.41, auc: 0.93 },
      aliases: [],
    });
    expect(modelVersion?.schema?.inputs[0]?.name).toBe("amount");
    expect(modelVersion?.inputExample?.columns[0]?.data?.values.value).toMatchObject({ values: [12.5] });
    const model = await reg.client.getModel({ project: P, name: "scorer" });
    expect(model.model?.latestVersion).toBe(0);
    const second = await reg.client.createModelVersion({ modelVersion: { project: P, model: "scorer" } });
    expect(second.modelVersion?.version).toBe(2);
  });

  it("gives twenty concurrent creates twenty distinct numbers", async () => {
    const created = await Promise.all(Array.from({ length: 20 }, () => reg.client.createModelVersion({ modelVersion: { project: P, model: "racing" } })));
    expect(created.map((c) => c.modelVersion!.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("never reuses a number after a deletion", async () => {
    await readyVersion("reused");
    const v2 = await reg.client.createModelVersion({ modelVersion: { project: P, model: "reused" } });
    await reg.client.deleteModelVersion({ project: P, model: "reused", version: v2.modelVersion!.version });
    const v3 = await reg.client.createModelVersion({ modelVersion: { project: P, model: "reused" } });
    expect(v3.modelVersion?.version).toBe(3);
  });

  it.each([
    ["an assigned number", { version: 4 }, /version numbers are assigned/],
    ["a bad model name", { model: "Bad" }, /model_version\.model.*identifier/],
    ["an empty metric name", { metrics: { "": 1 } }, /metrics/],
    ["a schema column without type", { schema: { inputs: [{ name: "x" }] } }, /schema\.inputs\[0\]\.type/],
    [
      "a schema column twice",
      {
        schema: {
          outputs: [
            { name: "y", type: { scalar: ScalarType.INT64 } },
            { name: "y", type: { scalar: ScalarType.INT64 } },
          ],
        },
      },
      /schema\.outputs\[1\]\.name.*twice/,
    ],
    ["a dataset without its view", { trainingDatasetVersion: 2 }, /training_dataset_version.*feature_view/],
    ["a feature view version 0", { featureView: { name: "fraud_view", version: 0 } }, /feature_view\.version/],
    ["a feature view name that is no identifier", { featureView: { name: "../x", version: 1 } }, /feature_view\.name/],
  ])("refuses %s", async (_what, init, message) => {
    const err = await failure(reg.client.createModelVersion({ modelVersion: { project: P, model: "invalid", ...init } }));
    expect(Code[err.code]).toBe("InvalidArgument");
    expect(err.rawMessage).toMatch(message);
  });

  it("answers UNAVAILABLE, creating nothing, when the metadata service cannot check the feature view", async () => {
    const err = await failure(
      reg.client.createModelVersion({ modelVersion: { project: P, model: "orphan", featureView: { name: "fraud_view", version: 1 } } }),
    );
    expect(Code[err.code]).toBe("Unavailable");
    expect(Code[(await failure(reg.client.getModel({ project: P, name: "orphan" }))).code]).toBe("NotFound");
  });
});

describe("finalizing and reading versions", () => {
  it("hides UPLOADING versions unless asked, and finalizing twice is harmless", async () => {
    const { modelVersion } = await reg.client.createModelVersion({ modelVersion: { project: P, model: "hidden" } });
    const hidden = await failure(reg.client.getModelVersion({ project: P, model: "hidden", selector: { case: "version", value: 1 } }));
    expect(Code[hidden.code]).toBe("NotFound");
    expect(hidden.rawMessage).toContain("UPLOADING");
    const shown = await reg.client.getModelVersion({ project: P, model: "hidden", selector: { case: "version", value: 1 }, includeIncomplete: true });
    expect(shown.modelVersion?.etag).toBe(modelVersion?.etag);
    expect((await reg.client.listModelVersions({ project: P, model: "hidden" })).modelVersions).toEqual([]);
    expect((await reg.client.listModelVersions({ project: P, model: "hidden", includeIncomplete: true })).modelVersions).toHaveLength(1);

    const ready = await reg.client.finalizeModelVersion({ project: P, model: "hidden", version: 1 });
    expect(ready.modelVersion?.status).toBe(ModelVersionStatus.READY);
    const again = await reg.client.finalizeModelVersion({ project: P, model: "hidden", version: 1 });
    expect(again.modelVersion?.etag).toBe(ready.modelVersion?.etag);
    const model = await reg.client.getModel({ project: P, name: "hidden" });
    expect(model.model?.latestVersion).toBe(1);
    expect(Code[(await failure(reg.client.finalizeModelVersion({ project: P, model: "hidden", version: 9 }))).code]).toBe("NotFound");
  });

  it("refuses a request without a version or alias", async () => {
    const err = await failure(reg.client.getModelVersion({ project: P, model: "hidden" }));
    expect(Code[err.code]).toBe("InvalidArgument");
  });
});

describe("listing versions", () => {
  const rmse = [0.5, 0.3, undefined, 0.3, 0.9, Number.NaN, 0.1];
  beforeAll(async () => {
    for (const [i, value] of rmse.entries()) {
      await readyVersion("ranked", { metrics: value === undefined ? { auc: 0.5 } : { rmse: value }, tags: i % 2 === 0 ? ["even"] : [] });
    }
    await reg.client.createModelVersion({ modelVersion: { project: P, model: "ranked", metrics: { rmse: 0.01 } } });
  });

  async function all(o: { orderByMetric?: string; descending?: boolean; tag?: string; includeIncomplete?: boolean }, pageSize: number): Promise<number[]> {
    const seen: number[] = [];
    let pageToken = "";
    do {
      const page = await reg.client.listModelVersions({ project: P, model: "ranked", pageSize, pageToken, ...o });
      seen.push(...page.modelVersions.map((v) => v.version));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return seen;
  }

  it("orders by a metric, best first either way, versions without it (or NaN) last, across pages", async () => {
    for (const pageSize of [1, 2, 3, 100]) {
      expect(await all({ orderByMetric: "rmse" }, pageSize)).toEqual([7, 2, 4, 1, 5, 3, 6]);
      expect(await all({ orderByMetric: "rmse", descending: true }, pageSize)).toEqual([5, 1, 4, 2, 7, 6, 3]);
    }
  });

  it("orders by number without a metric, filters by tag, and shows UPLOADING only when asked", async () => {
    expect(await all({}, 3)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await all({ descending: true }, 2)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(await all({ tag: "even", orderByMetric: "rmse" }, 2)).toEqual([7, 1, 5, 3]);
    expect(await all({ includeIncomplete: true, orderByMetric: "rmse" }, 2)).toEqual([8, 7, 2, 4, 1, 5, 3, 6]);
  });

  it("answers NOT_FOUND for the versions of an unknown model", async () => {
    expect(Code[(await failure(reg.client.listModelVersions({ project: P, model: "unknown" }))).code]).toBe("NotFound");
  });
});

describe("updating and deleting versions", () => {
  it("changes metrics while UPLOADING, only description and tags once READY, never the lineage", async () => {
    const { modelVersion } = await reg.client.createModelVersion({ modelVersion: { project: P, model: "tuned", metrics: { rmse: 1 } } });
    const measured = await reg.client.updateModelVersion({
      modelVersion: { ...modelVersion!, metrics: { rmse: 0.5, mae: 0.2 } },
      updateMask: { paths: ["metrics"] },
    });
    expect(measured.modelVersion?.metrics).toEqual({ rmse: 0.5, mae: 0.2 });
    const ready = (await reg.client.finalizeModelVersion({ project: P, model: "tuned", version: 1 })).modelVersion!;
    const frozen = await failure(reg.client.updateModelVersion({ modelVersion: { ...ready, metrics: { rmse: 0.1 } }, updateMask: { paths: ["metrics"] } }));
    expect(Code[frozen.code]).toBe("FailedPrecondition");
    expect(frozen.rawMessage).toContain("READY");
    const lineage = await failure(
      reg.client.updateModelVersion({
        modelVersion: { ...ready, featureView: create(FeatureViewRefSchema, { name: "v", version: 2 }) },
        updateMask: { paths: ["feature_view"] },
      }),
    );
    expect(Code[lineage.code]).toBe("FailedPrecondition");
    const unknown = await failure(reg.client.updateModelVersion({ modelVersion: { ...ready }, updateMask: { paths: ["status"] } }));
    expect(Code[unknown.code]).toBe("InvalidArgument");
    const described = await reg.client.updateModelVersion({ modelVersion: { ...ready, description: "the good one", tags: ["prod"], metrics: { ignored: 1 } } });
    expect(described.modelVersion).toMatchObject({ description: "the good one", tags: ["prod"], metrics: { rmse: 0.5, mae: 0.2 } });
    const stale = await failure(reg.client.updateModelVersion({ modelVersion: { ...ready, description: "late" } }));
    expect(Code[stale.code]).toBe("Aborted");
    const tagged = await reg.client.listModelVersions({ project: P, model: "tuned", tag: "prod" });
    expect(tagged.modelVersions.map((v) => v.version)).toEqual([1]);
  });

  it("refuses to delete a version an alias points to, and deletes it once the alias is gone", async () => {
    const v = await readyVersion("aliased");
    await reg.client.setAlias({ project: P, model: "aliased", alias: "production", version: v.version });
    const refused = await failure(reg.client.deleteModelVersion({ project: P, model: "aliased", version: v.version }));
    expect(Code[refused.code]).toBe("FailedPrecondition");
    expect(refused.rawMessage).toContain('"production"');
    await reg.client.deleteAlias({ project: P, model: "aliased", alias: "production" });
    const current = await reg.client.getModelVersion({ project: P, model: "aliased", selector: { case: "version", value: v.version } });
    const stale = await failure(reg.client.deleteModelVersion({ project: P, model: "aliased", version: v.version, etag: v.etag }));
    expect(Code[stale.code]).toBe("Aborted");
    await reg.client.deleteModelVersion({ project: P, model: "aliased", version: v.version, etag: current.modelVersion!.etag });
    expect((await reg.client.getModel({ project: P, name: "aliased" })).model?.latestVersion).toBe(0);
  });
});
