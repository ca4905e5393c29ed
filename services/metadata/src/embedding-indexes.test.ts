import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { DistanceMetric, EmbeddingIndexSchema } from "@granary/proto/metadata";
import { ColumnSchema, ScalarType } from "@granary/proto/types";
import { createTestDatabase, type TestDatabase } from "@granary/testing";
import { transactionsGroup, type GroupInit } from "./testing/fixtures.js";
import { startTestMetadata, type TestMetadata } from "./testing/start-test-metadata.js";

let db: TestDatabase;
let md: TestMetadata;
const P = "vectors";

beforeAll(async () => {
  db = await createTestDatabase("md_embedding_indexes");
  md = await startTestMetadata(db.url);
  await md.client.createProject({ name: P });
});
afterAll(async () => {
  await md.stop();
  await db.drop();
});

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected the call to fail, got ${String(err)}`);
  return err;
}

const index = (column: string, metric: DistanceMetric) => create(EmbeddingIndexSchema, { column, metric });

/** Transactions with an embedding<4> column and a variable-length float list. */
function items(overrides: GroupInit = {}) {
  const base = transactionsGroup(P, { name: "items", onlineEnabled: true });
  return transactionsGroup(P, {
    name: "items",
    onlineEnabled: true,
    columns: [
      ...base.columns,
      create(ColumnSchema, { name: "emb", type: { scalar: ScalarType.FLOAT, list: true, dimension: 4 } }),
      create(ColumnSchema, { name: "floats", type: { scalar: ScalarType.FLOAT, list: true } }),
      create(ColumnSchema, { name: "doubles", type: { scalar: ScalarType.DOUBLE, list: true, dimension: 4 } }),
    ],
    ...overrides,
  });
}

describe("embedding indexes", () => {
  it.each([
    { what: "unknown column", indexes: [{ column: "nope", metric: DistanceMetric.COSINE }], message: /embedding_indexes\[0\]\.column: "nope" is not a column/ },
    { what: "a scalar column", indexes: [{ column: "amount", metric: DistanceMetric.L2 }], message: /column "amount" is double; an index needs an embedding/ },
    { what: "a list without dimension", indexes: [{ column: "floats", metric: DistanceMetric.L2 }], message: /column "floats" .*embedding<N>/ },
    { what: "a double list", indexes: [{ column: "doubles", metric: DistanceMetric.L2 }], message: /column "doubles" .*float list/ },
    { what: "no metric", indexes: [{ column: "emb" }], message: /embedding_indexes\[0\]\.metric: choose COSINE, L2 or INNER_PRODUCT/ },
    { what: "an unknown metric", indexes: [{ column: "emb", metric: 42 as DistanceMetric }], message: /metric: 42 is not a value/ },
    {
      what: "two indexes on one column",
      indexes: [
        { column: "emb", metric: DistanceMetric.COSINE },
        { column: "emb", metric: DistanceMetric.L2 },
      ],
      message: /embedding_indexes\[1\]\.column: column "emb" already has an index/,
    },
  ])("refuses $what on create with INVALID_ARGUMENT, storing nothing", async ({ indexes, message }) => {
    const err = await failure(md.client.createFeatureGroup({ featureGroup: items({ embeddingIndexes: indexes.map((i) => create(EmbeddingIndexSchema, i)) }) }));
    expect(Code[err.code]).toBe("InvalidArgument");
    expect(err.rawMessage).toMatch(message);
    const listed = await md.client.listFeatureGroups({ project: P });
    expect(listed.featureGroups.map((g) => g.name)).not.toContain("items");
  });

  it("refuses an index on an offline-only group", async () => {
    const err = await failure(
      md.client.createFeatureGroup({ featureGroup: items({ onlineEnabled: false, embeddingIndexes: [index("emb", DistanceMetric.COSINE)] }) }),
    );
    expect(Code[err.code]).toBe("InvalidArgument");
    expect(err.rawMessage).toMatch(/online_enabled/);
  });

  it("keeps indexes, adds and removes them through UpdateFeatureGroup (mask embedding_indexes)", async () => {
    const { featureGroup } = await md.client.createFeatureGroup({
      featureGroup: items({ embeddingIndexes: [index("emb", DistanceMetric.COSINE)] }),
    });
    expect(featureGroup?.embeddingIndexes.map((i) => [i.column, i.metric])).toEqual([["emb", DistanceMetric.COSINE]]);
    const changed = await md.client.updateFeatureGroup({
      featureGroup: { ...featureGroup!, embeddingIndexes: [index("emb", DistanceMetric.L2)] },
      updateMask: { paths: ["embedding_indexes"] },
    });
    expect(changed.featureGroup?.embeddingIndexes.map((i) => i.metric)).toEqual([DistanceMetric.L2]);
    const bad = await failure(
      md.client.updateFeatureGroup({
        featureGroup: { ...changed.featureGroup!, embeddingIndexes: [index("floats", DistanceMetric.L2)] },
        updateMask: { paths: ["embedding_indexes"] },
      }),
    );
    expect(Code[bad.code]).toBe("InvalidArgument");
    const removed = await md.client.updateFeatureGroup({
      featureGroup: { ...changed.featureGroup!, embeddingIndexes: [] },
      updateMask: { paths: ["embedding_indexes"] },
    });
    expect(removed.featureGroup?.embeddingIndexes).toEqual([]);
    const got = await md.client.getFeatureGroup({ project: P, name: "items", version: 1 });
    expect(got.featureGroup?.embeddingIndexes).toEqual([]);
  });

  it("refuses adding an index to an offline-only version with FAILED_PRECONDITION", async () => {
    const { featureGroup } = await md.client.createFeatureGroup({ featureGroup: items({ name: "offline_items", onlineEnabled: false }) });
    const err = await failure(
      md.client.updateFeatureGroup({
        featureGroup: { ...featureGroup!, embeddingIndexes: [index("emb", DistanceMetric.COSINE)] },
        updateMask: { paths: ["embedding_indexes"] },
      }),
    );
    expect(Code[err.code]).toBe("FailedPrecondition");
    expect(err.rawMessage).toMatch(/create version 2 with online_enabled/);
  });
});
