import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as arrow from "apache-arrow";
import { arrowPayloads, tableFromChunks } from "@granary/offline";
import { SelectionMode } from "@granary/proto/metadata";
import type { TrainingDataQuery } from "@granary/proto/offline";
import type { FeatureVectors } from "@granary/proto/online";
import { ScalarType, ValueStatus, type ColumnData } from "@granary/proto/types";
import { scratchDir, testKeys, waitFor, waitForServing } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

// Online vectors equal what training data returns for the same entity and column (issue 14):
// a root group's selected key column, and columns appended with a default.
const keys = testKeys();
const dir = scratchDir("online-skew");
const P = "skew";
const GROUP = { name: "customers", version: 1 };
let stack: OfflineStack;
const T = (scalar: ScalarType) => ({ scalar });
const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const hourAgo = Date.now() - 3_600_000;

async function insert(columns: Record<string, arrow.Vector>) {
  const table = new arrow.Table(columns);
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: GROUP } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return stack.off.insert(requests());
}

async function* queryOnly(view: string) {
  yield { message: { case: "query" as const, value: { project: P, featureView: { name: view, version: 1 } } as TrainingDataQuery } };
}

/** Training data's rows by id, with plain JS values. */
async function trainingRows(view: string): Promise<Map<number, Record<string, unknown>>> {
  const table = await tableFromChunks(stack.off.getTrainingData(queryOnly(view)));
  const rows = table.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown>);
  return new Map(rows.map((r) => [r.id as number, r]));
}

async function vectors(view: string, ids: bigint[]): Promise<FeatureVectors> {
  const res = await stack.on.getFeatureVectors({
    project: P,
    featureView: { name: view, version: 1 },
    entities: { rowCount: ids.length, servingKeys: [{ name: "id", data: i64(ids) }] },
  });
  return res.vectors!;
}

function column(v: FeatureVectors, name: string): { values: unknown[]; statuses: string[] } {
  const c = v.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name} in ${v.columns.map((x) => x.name).join(",")}`);
  const values = (c.values?.values.value as { values: unknown[] }).values.map((x) => (typeof x === "bigint" ? Number(x) : x));
  return { values, statuses: c.statuses.map((s) => ValueStatus[s]!) };
}

beforeAll(async () => {
  stack = await startOfflineStack({ name: "online_skew", dataDir: dir.path, keys });
  await waitForServing(stack.addresses.online, 10_000);
  await stack.md.createProject({ name: P });
  await stack.md.createFeatureGroup({
    featureGroup: {
      project: P,
      ...GROUP,
      primaryKey: ["id"],
      eventTime: "event_time",
      onlineEnabled: true,
      columns: [
        { name: "id", type: T(ScalarType.INT64) },
        { name: "event_time", type: T(ScalarType.TIMESTAMP) },
        { name: "tenure", type: T(ScalarType.DOUBLE) },
      ],
    },
  });
  await stack.md.createFeatureView({
    featureView: {
      project: P,
      name: "with_key",
      version: 1,
      query: { featureGroup: GROUP, selection: { mode: SelectionMode.INCLUDE, columns: ["id", "tenure"] } },
    },
  });
  // Offline pushes committed rows online: the same rows on both sides.
  await insert({
    id: arrow.vectorFromArray([1n, 2n], new arrow.Int64()),
    event_time: arrow.vectorFromArray([hourAgo, hourAgo], new arrow.TimestampMillisecond()),
    tenure: arrow.vectorFromArray([12.5, 3], new arrow.Float64()),
  });
  await waitFor(async () => column(await vectors("with_key", [1n, 2n]), "tenure").statuses.every((s) => s === "PRESENT"), {
    timeoutMs: 10_000,
    what: "the rows online",
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  dir.remove();
}, 30_000);

describe("skew #1: a root group's selected primary-key column", () => {
  it("is served PRESENT with the value training data has for it", async () => {
    const v = await vectors("with_key", [1n, 2n]);
    expect(v.columns.map((c) => c.name)).toEqual(["id", "tenure"]);
    const training = await trainingRows("with_key");
    expect(column(v, "id")).toEqual({ values: [1, 2], statuses: ["PRESENT", "PRESENT"] });
    expect(column(v, "id").values).toEqual([training.get(1)!.id, training.get(2)!.id]);
    expect(column(v, "tenure").values).toEqual([training.get(1)!.tenure, training.get(2)!.tenure]);
  });

  it("is filled from the request for an entity with no stored row, as hsfs fills serving keys", async () => {
    const v = await vectors("with_key", [3n]);
    expect(column(v, "id")).toEqual({ values: [3], statuses: ["PRESENT"] });
    expect(column(v, "tenure").statuses).toEqual(["NOT_FOUND"]);
  });
});

describe("skew #2: a column appended with a default", () => {
  it("reads as its default for rows written before it, as training data does; an explicit null written after it reads null", async () => {
    await stack.md.appendFeatures({
      project: P,
      ...GROUP,
      columns: [
        { name: "tier", type: T(ScalarType.STRING), defaultValue: { kind: { case: "stringValue", value: "basic" } } },
        { name: "score", type: T(ScalarType.DOUBLE), defaultValue: { kind: { case: "doubleValue", value: 0.5 } } },
        { name: "note", type: T(ScalarType.STRING) },
      ],
    });
    await stack.md.createFeatureView({
      featureView: {
        project: P,
        name: "with_tier",
        version: 1,
        query: { featureGroup: GROUP, selection: { mode: SelectionMode.INCLUDE, columns: ["id", "tenure", "tier", "score", "note"] } },
      },
    });
    const old = await waitFor(() => vectors("with_tier", [1n, 2n]).catch(() => undefined), { timeoutMs: 5000, what: "the new view online" });
    expect(column(old!, "tier")).toEqual({ values: ["basic", "basic"], statuses: ["PRESENT", "PRESENT"] });
    expect(column(old!, "score")).toEqual({ values: [0.5, 0.5], statuses: ["PRESENT", "PRESENT"] });
    expect(column(old!, "note").statuses).toEqual(["NULL", "NULL"]);
    const training = await trainingRows("with_tier");
    expect(column(old!, "tier").values).toEqual([training.get(1)!.tier, training.get(2)!.tier]);
    expect(column(old!, "score").values).toEqual([training.get(1)!.score, training.get(2)!.score]);

    // A row written after the append with the column explicitly null keeps its null online.
    await stack.on.writeRows({
      project: P,
      featureGroup: GROUP,
      rows: {
        case: "columns",
        value: {
          rowCount: 1,
          columns: [
            { name: "id", data: i64([4n]) },
            { name: "event_time", data: { values: { case: "timestamps", value: { values: [BigInt(Date.now()) * 1000n] } } } as ColumnData },
            { name: "tenure", data: { values: { case: "doubles", value: { values: [1] } } } as ColumnData },
            { name: "tier", data: { values: { case: "strings", value: { values: [""] } }, nullIndexes: [0] } as ColumnData },
            { name: "score", data: { values: { case: "doubles", value: { values: [0] } }, nullIndexes: [0] } as ColumnData },
          ],
        },
      },
    });
    const fresh = await vectors("with_tier", [4n]);
    expect(column(fresh, "tier").statuses).toEqual(["NULL"]);
    expect(column(fresh, "score").statuses).toEqual(["NULL"]);
    expect(column(fresh, "tenure")).toEqual({ values: [1], statuses: ["PRESENT"] });
  });
});
