import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { connect, feature, type FeatureGroup, type FeatureView, type Granary, type Project } from "@granary/client";
import { startTestSuite } from "@granary/suite";
import { waitFor } from "@granary/testing";

// The SDK's similarity search against a real suite: rows inserted offline reach the online store
// and its index; fg.findNeighbors and fv.findNeighbors (keys, distances, vectors in one call,
// filters from the query builders); an index added with fg.update.
let stopSuite: () => Promise<void>;
let granary: Granary;
let project: Project;
let items: FeatureGroup;
let view: FeatureView;
const DIM = 3;
const rows = [
  { item_id: 1n, emb: [1, 0, 0], kind: "shoe", ts: new Date("2025-01-01T00:00:00Z") },
  { item_id: 2n, emb: [0.9, 0.1, 0], kind: "shoe", ts: new Date("2025-01-01T00:00:00Z") },
  { item_id: 3n, emb: [0.8, 0, 0.2], kind: "hat", ts: new Date("2025-01-01T00:00:00Z") },
  { item_id: 4n, emb: [0, 1, 0], kind: "hat", ts: new Date("2025-01-01T00:00:00Z") },
  { item_id: 5n, emb: [0, 0, 1], kind: "shoe", ts: new Date("2025-01-01T00:00:00Z") },
];

beforeAll(async () => {
  const { suite, keys, stop } = await startTestSuite("neighbors_sdk", { GRANARY_ONLINE_ANN_EXACT_BELOW: "0" });
  stopSuite = stop;
  granary = connect({ addresses: suite.addresses, timeoutMs: 20_000, apiKey: keys.adminKey });
  await granary.waitUntilServing(30_000);
  project = await granary.project("shop");
  items = await project.getOrCreateFeatureGroup({
    name: "items",
    primaryKey: ["item_id"],
    eventTime: "ts",
    onlineEnabled: true,
    columns: [
      { name: "item_id", type: "int64" },
      { name: "emb", type: `embedding<${DIM}>` },
      { name: "kind", type: "string" },
      { name: "ts", type: "timestamp" },
    ],
    embeddingIndexes: [{ column: "emb", metric: "cosine" }],
  });
  await items.insert(rows);
  view = await project.getOrCreateFeatureView({ name: "item_view", query: items.select(["emb", "kind"]) });
  await waitFor(async () => (await items.findNeighbors("emb", [1, 0, 0], { k: 5 })).length === 5, { timeoutMs: 20_000, what: "rows online" });
}, 120_000);

afterAll(async () => {
  await stopSuite?.();
}, 60_000);

describe("findNeighbors in the SDK", () => {
  it("fg.findNeighbors: keys and distances nearest first, the group's rows on request, filters", async () => {
    const found = await items.findNeighbors("emb", [1, 0, 0], { k: 3, includeVectors: true });
    expect(found.map((n) => n.key)).toEqual([{ item_id: 1 }, { item_id: 2 }, { item_id: 3 }]);
    expect(found[0]!.distance).toBeCloseTo(0, 5);
    expect(found[1]!.distance).toBeCloseTo(1 - 0.9 / Math.hypot(0.9, 0.1), 5);
    expect(found[2]!.vector).toMatchObject({ item_id: 3, kind: "hat" });
    const hats = await items.findNeighbors("emb", [1, 0, 0], { k: 3, filter: feature("kind").eq("hat") });
    expect(hats.map((n) => n.key["item_id"])).toEqual([3, 4]);
    const exact = await items.findNeighbors("emb", [0, 0.4, 0.6], { k: 5, exact: true });
    const ann = await items.findNeighbors("emb", [0, 0.4, 0.6], { k: 5 });
    expect(ann).toEqual(exact);
  });

  it("fv.findNeighbors: neighbours by the view's serving keys with their feature vectors in one call", async () => {
    const found = await view.findNeighbors("emb", [0, 0, 1], { k: 2, includeVectors: true });
    expect(found.map((n) => n.key)).toEqual([{ item_id: 5 }, { item_id: 3 }]);
    expect(found[0]!.vector).toMatchObject({ kind: "shoe" });
    expect(found[1]!.vector).toMatchObject({ kind: "hat" });
  });

  it("refuses a column without an index, and searches it once fg.update adds one", async () => {
    await expect(items.findNeighbors("kind", [1, 0, 0])).rejects.toThrow(/no embedding index/);
    await items.update({ embeddingIndexes: [{ column: "emb", metric: "l2" }] });
    await waitFor(
      async () => {
        // [2, 0, 0] is at cosine distance 0 from item 1, and at Euclidean distance 1.
        const found = await items.findNeighbors("emb", [2, 0, 0], { k: 1 });
        return found[0]?.key["item_id"] === 1 && Math.abs(found[0].distance - 1) < 1e-6 ? found : undefined;
      },
      { timeoutMs: 10_000, what: "the L2 index" },
    );
  });
});
